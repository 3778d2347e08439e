// The API and the worker run as child processes, exactly as operators start them
// (`node apps/api/dist/server.js`, `node apps/worker/dist/main.js`), configured through the
// environment. The load generator stays in the bench process: it never shares a process (or an
// event loop) with the server it measures.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { CountSource } from '@tally/config';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
export const API_ENTRY = `${REPOSITORY}apps/api/dist/server.js`;
export const WORKER_ENTRY = `${REPOSITORY}apps/worker/dist/main.js`;

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 12_000;
const OUTPUT_LINES_KEPT = 40;

export interface ServiceEnvironment {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
}

export interface RunningService {
  readonly name: string;
  readonly pid: number;
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  /** SIGTERM, then SIGKILL after the grace delay; safe to call twice. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A bench that crashes must not leave servers behind holding ports and connections.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function requireBuilt(entry: string): void {
  if (!existsSync(entry)) {
    throw new Error(`${entry} does not exist: build the workspace first (npm run build), then run the benchmark again.`);
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

async function startService(name: string, entry: string, env: Record<string, string>, readyUrl: string, baseUrl: string): Promise<RunningService> {
  requireBuilt(entry);
  // Only what Node needs from our own environment: the service's configuration comes from `env`.
  const inherited = Object.fromEntries(['PATH', 'HOME', 'LANG', 'TZ'].flatMap((key) => (process.env[key] ? [[key, process.env[key]!]] : [])));
  const child = spawn(process.execPath, [entry], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter((line) => line.trim() !== ''));
    output.splice(0, Math.max(0, output.length - OUTPUT_LINES_KEPT));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      running.delete(child);
      resolve();
    }),
  );

  const failure = (why: string) =>
    new Error(`${name} (${entry}) ${why}. Its last output:\n  ${output.join('\n  ') || '(none)'}`);

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exitCode !== undefined) throw failure(`exited with code ${exitCode} before it was ready`);
    if (await answers(readyUrl)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw failure(`did not answer ${readyUrl} within ${START_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  let stopping: Promise<void> | undefined;
  return {
    name,
    pid: child.pid!,
    baseUrl,
    stop() {
      stopping ??= (async () => {
        if (exitCode !== undefined) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** Starts an API restricted to `sources` (COUNT_SOURCES) and waits until it answers /health. */
export async function startApi(environment: ServiceEnvironment, sources: readonly CountSource[]): Promise<RunningService> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  return startService(
    `API (COUNT_SOURCES=${sources.join(',')})`,
    API_ENTRY,
    {
      DATABASE_URL: environment.databaseUrl,
      REDIS_URL: environment.redisUrl,
      REDIS_PREFIX: environment.redisPrefix,
      HOST: '127.0.0.1',
      PORT: String(port),
      COUNT_SOURCES: sources.join(','),
      // Per-request logs off: a deployment ships access logs from its proxy, and a log line per
      // request would measure pino rather than the page path.
      LOG_LEVEL: 'warn',
    },
    `${baseUrl}/health`,
    baseUrl,
  );
}

/** Starts the worker and waits until its health endpoint says it is relaying normally. */
export async function startWorker(environment: ServiceEnvironment): Promise<RunningService> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  return startService(
    'worker',
    WORKER_ENTRY,
    {
      DATABASE_URL: environment.databaseUrl,
      REDIS_URL: environment.redisUrl,
      REDIS_PREFIX: environment.redisPrefix,
      HOST: '127.0.0.1',
      WORKER_PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    `${baseUrl}/health`,
    baseUrl,
  );
}
