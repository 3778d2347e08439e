// Runs the real worker (`node apps/worker/dist/main.js`) beside a test, for commands that hand
// work to it (`tally counts backfill --wait`).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../test/support/index.js';

export const WORKER_MAIN = fileURLToPath(new URL('../../worker/dist/main.js', import.meta.url));

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** SIGTERM, then waits (bounded) for the exit; SIGKILL if the graceful stop hangs. */
  stop(): Promise<number | null>;
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode} before it was healthy`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the worker did not report healthy at ${url} within ${timeoutMs} ms`);
}

export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, WORKER_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    try {
      return await exited;
    } finally {
      clearTimeout(killer);
    }
  };
  try {
    await waitForHealth(`http://127.0.0.1:${port}/health`, child, 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, stop };
}

export const workerBuilt = (): boolean => existsSync(WORKER_MAIN);
