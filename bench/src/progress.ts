// Progress lines with the time since the run started, so a slow step shows while it happens.
import { performance } from 'node:perf_hooks';

export interface Progress {
  step(message: string): void;
  /** Seconds since the run started. */
  elapsedSec(): number;
}

export function createProgress(write: (line: string) => void = (line) => console.log(line)): Progress {
  const started = performance.now();
  const elapsedSec = () => (performance.now() - started) / 1000;
  return {
    elapsedSec,
    step(message) {
      write(`[${elapsedSec().toFixed(1).padStart(6)} s] ${message}`);
    },
  };
}

/** Runs `work` and returns its result with the milliseconds it took. */
export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}
