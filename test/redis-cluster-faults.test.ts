// Failures particular to a Redis Cluster, on a private three-master cluster started by this file:
// a master other than the one holding the relay's epoch restarts empty (its author hashes are
// gone while the epoch still stands), and a cluster that does not answer at all.
import calculateSlot from 'cluster-key-slot';
import { loadConfig } from '@tally/config';
import { buildApp } from '@tally/api';
import { checkEpoch, createRedis, deleteKeysUnder, readServerRunId, redisKeys, type RedisClient } from '@tally/cache';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectConverged, waitFor } from '../apps/worker/test/support/converged.js';
import { startTestWorker } from '../apps/worker/test/support/workers.js';
import { freePort, startRedisCluster, uniquePrefix, useTestDatabase, type TestRedisCluster } from './support/index.js';

const db = useTestDatabase();
const prefix = uniquePrefix();
const keys = redisKeys(prefix);
let cluster: TestRedisCluster;
let client: RedisClient;

beforeAll(async () => {
  cluster = await startRedisCluster();
  client = createRedis(cluster.url, 'tool', { connectionName: 'tally-test-harness', onError: () => {} });
});
afterAll(async () => {
  if (client) await deleteKeysUnder(client, prefix).catch(() => {});
  client?.disconnect();
  await cluster?.destroy();
});

/** The port of the master that serves `key`'s slot, asked of the cluster itself. */
async function portServing(key: string): Promise<number> {
  const slot = calculateSlot(key);
  const range = (await client.cluster('SLOTS')).find(([first, last]) => slot >= first && slot <= last);
  const master = range?.[2];
  if (!master) throw new Error(`no master serves slot ${slot}`);
  return master[1];
}

async function runIdAt(port: number): Promise<string> {
  const node = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => null });
  node.on('error', () => {});
  try {
    return await readServerRunId(node);
  } finally {
    node.disconnect();
  }
}

describe('a Redis Cluster that loses a master or does not answer', () => {
  it('a master that restarts empty, though the epoch survives on another node, makes the worker re-mirror every author', async () => {
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO author (name) SELECT 'Author ' || g FROM generate_series(1, 45) g RETURNING id`,
    );
    await db.pool.query(`INSERT INTO book (author_id, title) SELECT id, 'Book' FROM unnest($1::bigint[]) AS id`, [rows.map((row) => row.id)]);
    const worker = await startTestWorker(
      { databaseUrl: db.url, redisUrl: cluster.url, redisPrefix: prefix },
      { pollIntervalMs: 50 },
    );
    try {
      await expectConverged({ pool: db.pool, redis: client, keys });
      await waitFor('a trusted epoch', async () => (await checkEpoch(client, keys)).trusted);
      const epochPort = await portServing(keys.relayEpoch);
      const victim = cluster.nodes.find((node) => node.port !== epochPort)!;
      const rebuildsBefore = (await worker.metrics.cacheRebuilds.get()).values.reduce((sum, value) => sum + value.value, 0);

      // A quick restart: the node comes back with its slots (nodes.conf) but without its keys.
      await victim.kill();
      await victim.start();
      await cluster.waitUntilHealthy();
      // The restarted node may refuse a connection for a moment after the cluster reports healthy.
      let newRunId = '';
      await waitFor('the restarted master to answer', async () => {
        newRunId = await runIdAt(victim.port).catch(() => '');
        return newRunId !== '';
      });

      // Without a rebuild the authors whose hashes lived on the victim would stay missing: nothing
      // writes them (no new books, reconcile is off in these workers).
      await expectConverged({ pool: db.pool, redis: client, keys }, { timeoutMs: 30_000 });
      const epoch = await checkEpoch(client, keys);
      expect(epoch.trusted).toBe(true);
      expect(epoch.epoch.kind === 'final' && epoch.epoch.masterRunIds).toContain(newRunId);
      const rebuildsAfter = (await worker.metrics.cacheRebuilds.get()).values.reduce((sum, value) => sum + value.value, 0);
      expect(rebuildsAfter).toBeGreaterThan(rebuildsBefore);
    } finally {
      await worker.stop();
    }
  });

  it('the API answers from the column when no cluster node answers', async () => {
    const closed = [await freePort(), await freePort()];
    const app = await buildApp(
      loadConfig({ DATABASE_URL: db.url, REDIS_URL: `redis+cluster://127.0.0.1:${closed[0]},127.0.0.1:${closed[1]}`, REDIS_PREFIX: prefix }),
      { heartbeatIntervalMs: 50 },
    );
    try {
      const { rows } = await db.pool.query<{ id: number }>(`INSERT INTO author (name) VALUES ('Offline') RETURNING id`);
      await db.pool.query(`INSERT INTO book (author_id, title) VALUES ($1, 'A'), ($1, 'B')`, [rows[0]!.id]);
      const page = await app.inject(`/authors/${rows[0]!.id}/books`);
      expect(page.statusCode).toBe(200);
      expect(page.headers['x-count-source']).toBe('column');
      expect(page.json()).toMatchObject({ count: 2 });
      expect((await app.inject('/ready')).statusCode).toBe(503);
    } finally {
      await app.close();
    }
  });
});
