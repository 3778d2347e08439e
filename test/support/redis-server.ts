// A private redis-server for tests that kill, flush or restart Redis: the shared server on 6379
// serves every other test file running in parallel and must never be disturbed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server: SIGKILL by default (a crash); 'shutdown' saves nothing and exits cleanly. */
  stop(how?: 'kill' | 'shutdown'): Promise<void>;
  /** Starts it again on the same port and directory (an AOF, when enabled, is replayed). */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPing(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`private redis-server at ${url} did not start`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      probe.disconnect();
    }
  }
}

export async function startRedisServer(options: { appendOnly?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tally-redis-'));
  const url = `redis://127.0.0.1:${port}/0`;
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn(
      'redis-server',
      [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
        '--appendonly', options.appendOnly ? 'yes' : 'no', '--appendfsync', 'everysec',
        '--maxmemory-policy', 'noeviction', '--enable-debug-command', 'local',
      ],
      { stdio: 'ignore' },
    );
    await waitForPing(url);
  };

  const stop = async (how: 'kill' | 'shutdown' = 'kill') => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    if (how === 'kill') running.kill('SIGKILL');
    else running.kill('SIGTERM');
    await exited;
  };

  await start();
  return {
    port,
    url,
    stop,
    start,
    async destroy() {
      await stop('kill');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
