// Where the CLI writes: results to stdout (one JSON document with --json, readable lines
// otherwise), progress bars and notes to stderr so they never corrupt a script's input.
import cliProgress from 'cli-progress';

export interface Progress {
  increment(by: number): void;
  update(value: number): void;
  setTotal(total: number): void;
  stop(): void;
}

export class Output {
  constructor(readonly json: boolean) {}

  /** The command's result: `value` as JSON with --json, `lines` otherwise. */
  result(value: unknown, lines: readonly string[]): void {
    if (this.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
  }

  /** A remark for the operator; on stderr when stdout is reserved for JSON. */
  note(line: string): void {
    (this.json ? process.stderr : process.stdout).write(`${line}\n`);
  }

  /** A progress bar on stderr; cli-progress draws nothing when stderr is not a terminal. */
  progress(label: string, total: number): Progress {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} elapsed, ETA {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      increment: (by) => bar.increment(by),
      update: (value) => bar.update(value),
      setTotal: (value) => bar.setTotal(value),
      stop: () => bar.stop(),
    };
  }
}
