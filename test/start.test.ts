// `npm start` (scripts/start.js after the build): from a database that does not exist yet to a
// served, mirrored count; Ctrl-C stops both processes; one dying takes the other down.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrl, dropTestDatabase, freePort, useTestRedis } from './support/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const built = ['apps/api/dist/server.js', 'apps/worker/dist/main.js', 'packages/db/dist/index.js'].every((path) =>
  existsSync(new URL(`../${path}`, import.meta.url)),
);

const redis = useTestRedis();
const databases: string[] = [];
afterAll(async () => {
  for (const name of databases) await dropTestDatabase(name);
});

interface Launch {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** Waits (bounded) until the launcher printed a line matching `pattern`; returns the match. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

function launch(env: Record<string, string>): Launch {
  const child = spawn(process.execPath, ['scripts/start.js'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = output.match(pattern);
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`the launcher exited (${child.exitCode}) before printing ${pattern}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`the launcher did not print ${pattern} within ${timeoutMs} ms:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

async function freshEnvironment() {
  const name = `tally_test_${Date.now()}_start_${randomBytes(3).toString('hex')}`;
  databases.push(name);
  const [port, workerPort] = [await freePort(), await freePort()];
  return {
    name,
    env: {
      DATABASE_URL: databaseUrl(name),
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      PORT: String(port),
      WORKER_PORT: String(workerPort),
      HOST: '127.0.0.1',
    },
    port,
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (bounded) for a process that is not our child to disappear. */
async function gone(pid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

async function stopLauncher(launcher: Launch, pids: number[]): Promise<void> {
  if (launcher.child.exitCode === null) launcher.child.kill('SIGTERM');
  await Promise.race([launcher.exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  // A failed test must not leave the API or worker running.
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe.skipIf(!built)('npm start (scripts/start.js)', () => {
  it('creates the missing database, serves a count mirrored from a SQL insert from Redis, and stops both processes on SIGINT', async () => {
    const { env, port } = await freshEnvironment();
    const launcher = launch(env);
    const pids: number[] = [];
    try {
      pids.push(Number((await launcher.waitFor(/api started \(pid (\d+)\)/))[1]));
      pids.push(Number((await launcher.waitFor(/worker started \(pid (\d+)\)/))[1]));
      expect(launcher.output()).toContain('created database');
      await launcher.waitFor(new RegExp(`ready: API http://127\\.0\\.0\\.1:${port} +docs http://127\\.0\\.0\\.1:${port}/docs`));

      const authorId = await withClient(env.DATABASE_URL, async (client) => {
        const { rows } = await client.query<{ id: string }>(`INSERT INTO author (name) VALUES ('Ursula') RETURNING id`);
        await client.query(`INSERT INTO book (author_id, title) VALUES ($1, 'The Dispossessed')`, [rows[0]!.id]);
        return Number(rows[0]!.id);
      });

      // The worker mirrors the count; the API serves it from Redis once the heartbeat vouches for it.
      let source: string | null = null;
      let body: { count?: number } = {};
      for (let attempt = 0; attempt < 100 && source !== 'redis'; attempt += 1) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
        const response = await fetch(`http://127.0.0.1:${port}/authors/${authorId}/books`);
        source = response.headers.get('x-count-source');
        body = (await response.json()) as { count?: number };
      }
      expect(await redis.redis.hget(redis.keys.author(authorId), 'books_count')).toBe('1');
      expect(source).toBe('redis');
      expect(body.count).toBe(1);

      launcher.child.kill('SIGINT');
      expect(await launcher.exited).toBe(0);
      for (const pid of pids) expect(await gone(pid)).toBe(true);
      expect(launcher.output()).toMatch(/api stopped/);
      expect(launcher.output()).toMatch(/worker stopped/);
    } finally {
      await stopLauncher(launcher, pids);
    }
  });

  it('when the worker dies, stops the API too and exits non-zero', async () => {
    const { env } = await freshEnvironment();
    const launcher = launch(env);
    const pids: number[] = [];
    try {
      const api = Number((await launcher.waitFor(/api started \(pid (\d+)\)/))[1]);
      const worker = Number((await launcher.waitFor(/worker started \(pid (\d+)\)/))[1]);
      pids.push(api, worker);
      await launcher.waitFor(/ready: API/);
      process.kill(worker, 'SIGKILL');
      expect(await launcher.exited).not.toBe(0);
      expect(await gone(api)).toBe(true);
      expect(launcher.output()).toContain('worker exited unexpectedly (signal SIGKILL)');
    } finally {
      await stopLauncher(launcher, pids);
    }
  });

  it('with PostgreSQL unreachable, names the database and exits 1 without starting anything', async () => {
    const { env } = await freshEnvironment();
    const launcher = launch({ ...env, DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:1/tally' });
    expect(await launcher.exited).toBe(1);
    expect(launcher.output()).toContain('postgres://postgres:***@127.0.0.1:1/tally');
    expect(launcher.output()).not.toContain('started (pid');
  });
});
