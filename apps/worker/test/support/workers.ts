// Starting workers in tests: in-process (startWorker) for most, or the built entry point as a
// child process (node apps/worker/dist/main.js) where signals and kill -9 are the point.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startWorker, type RunningWorker, type WorkerConfig, type WorkerSettings } from '@tally/worker';

export interface WorkerTarget {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  countStalenessMs?: number;
  reconcileIntervalMs?: number;
}

export function workerConfig(target: WorkerTarget): WorkerConfig {
  return {
    databaseUrl: target.databaseUrl,
    redisUrl: target.redisUrl,
    redisPrefix: target.redisPrefix,
    countStalenessMs: target.countStalenessMs ?? 2000,
    reconcileIntervalMs: target.reconcileIntervalMs ?? 60_000,
    workerPort: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
  };
}

/** An in-process worker; BullMQ processors off unless asked for. Stop it in the test. */
export async function startTestWorker(target: WorkerTarget, settings: Partial<WorkerSettings> = {}): Promise<RunningWorker> {
  const level = process.env.TALLY_TEST_LOG_LEVEL ?? 'silent';
  return startWorker(workerConfig(target), {
    logger: pino({ level }),
    settings: {
      jobs: false,
      collectDefaultMetrics: false,
      workerId: `test-${randomBytes(3).toString('hex')}`,
      ...settings,
    },
  });
}

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Every JSON log line the process wrote. */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal's name) when the process exits. */
  readonly exited: Promise<number | string>;
  /** Resolves once the process logged that LISTEN is established. */
  listening(): Promise<void>;
}

/** Runs the built worker (`npx tsc -b` first) with the target's environment; resolves once it serves health. */
export async function spawnWorker(target: WorkerTarget, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: target.databaseUrl,
      REDIS_URL: target.redisUrl,
      REDIS_PREFIX: target.redisPrefix,
      COUNT_STALENESS_MS: String(target.countStalenessMs ?? 2000),
      RECONCILE_INTERVAL_MS: String(target.reconcileIntervalMs ?? 60_000),
      WORKER_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const watchers: Array<() => void> = [];
  let stderr = '';
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
    for (const watcher of watchers) watcher();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const waitForLog = (msg: string, timeoutMs = 15_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = logs.find((line) => line.msg === msg);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(
        () => reject(new Error(`worker did not log "${msg}" within ${timeoutMs} ms; stderr: ${stderr}; logs: ${JSON.stringify(logs.slice(-5))}`)),
        timeoutMs,
      );
      watchers.push(check);
      void exited.then(() => setTimeout(check, 10));
      check();
    });
  const started = await waitForLog('worker started');
  return {
    child,
    port: Number(started.port),
    logs,
    exited,
    listening: async () => {
      await waitForLog('listening for outbox notifications');
    },
  };
}

/** Sends `signal` and waits (bounded) for the exit; SIGKILLs and fails when it does not exit in time. */
export async function stopProcess(worker: WorkerProcess, signal: NodeJS.Signals, timeoutMs = 10_000): Promise<number | string> {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return worker.exited;
  worker.child.kill(signal);
  const outcome = await Promise.race([worker.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs))]);
  if (outcome === 'timeout') {
    worker.child.kill('SIGKILL');
    await worker.exited;
    throw new Error(`worker did not exit within ${timeoutMs} ms of ${signal}`);
  }
  return outcome;
}
