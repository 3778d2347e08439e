// A private Redis Cluster for tests: three masters without replicas, each a redis-server on a free
// port with cluster mode on and nothing persisted, joined with `redis-cli --cluster create`. The
// shared server on 6379 is never touched. A node can be restarted (empty, same node id and slots,
// from its nodes.conf) to rehearse a master that lost its data.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './redis-server.js';

const run = promisify(execFile);

export interface RedisClusterNode {
  readonly port: number;
  /** SIGKILLs the node: it loses everything it held (nothing is persisted). */
  kill(): Promise<void>;
  /** Starts it again from its nodes.conf: same node id and slots, no data, a new run_id. */
  start(): Promise<void>;
}

export interface TestRedisCluster {
  /** REDIS_URL for tally: `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`. */
  readonly url: string;
  readonly nodes: readonly RedisClusterNode[];
  /** Polls every node until it reports cluster_state:ok and all 16384 slots assigned. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node and removes their directory. */
  destroy(): Promise<void>;
}

async function clusterInfo(port: number): Promise<string> {
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return await probe.cluster('INFO');
  } finally {
    probe.disconnect();
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`private Redis Cluster: timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
}

export async function startRedisCluster(options: { masters?: number } = {}): Promise<TestRedisCluster> {
  const masters = options.masters ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'tally-redis-cluster-'));
  const nodes: Array<RedisClusterNode & { stop(): Promise<void> }> = [];

  for (let index = 0; index < masters; index += 1) {
    const port = await freePort();
    let child: ChildProcess | undefined;
    const start = async () => {
      child = spawn(
        'redis-server',
        [
          '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
          '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000',
          '--maxmemory-policy', 'noeviction',
        ],
        { stdio: 'ignore' },
      );
      await waitFor(`redis-server on port ${port}`, async () => (await clusterInfo(port)).length > 0, 10_000);
    };
    const stop = async () => {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
    };
    nodes.push({ port, start, kill: stop, stop });
  }

  const destroy = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
  };

  const waitUntilHealthy = (timeoutMs = 20_000) =>
    waitFor(
      'cluster_state:ok on every node',
      async () => {
        const infos = await Promise.all(nodes.map((node) => clusterInfo(node.port)));
        return infos.every((info) => /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info));
      },
      timeoutMs,
    );

  try {
    await Promise.all(nodes.map((node) => node.start()));
    await run(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: 30_000 },
    );
    await waitUntilHealthy();
  } catch (error) {
    await destroy();
    throw error;
  }

  return {
    url: `redis+cluster://${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`,
    nodes,
    waitUntilHealthy,
    destroy,
  };
}
