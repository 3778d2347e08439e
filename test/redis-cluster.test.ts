// tally on a real Redis Cluster (three masters, started by this file; the shared Redis is not
// used): the relay spreads author hashes over every master, the heartbeat and epoch share the
// {relay} node, the API serves counts from the cluster, BullMQ runs a backfill, and the commands
// that list keys (verify, rebuild-cache, outbox status, prefix cleanup) see every master.
// The CLI runs as built: `npx tsc -b` first when running this file alone.
import { loadConfig } from '@tally/config';
import { buildApp, type TallyApp } from '@tally/api';
import {
  checkEpoch,
  createRedis,
  deleteKeysUnder,
  masterNodes,
  readHeartbeat,
  readMirroredCount,
  redisKeys,
  type RedisClient,
} from '@tally/cache';
import type { Pool } from '@tally/db';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../apps/cli/test/run-cli.js';
import { expectConverged, waitFor } from '../apps/worker/test/support/converged.js';
import { startTestWorker } from '../apps/worker/test/support/workers.js';
import { startRedisCluster, uniquePrefix, useTestDatabase, type TestRedisCluster } from './support/index.js';

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
  client?.disconnect();
  await cluster?.destroy();
});

const apps: TallyApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await db.pool.query('TRUNCATE author CASCADE');
  await db.pool.query('DELETE FROM tally.count_outbox');
  await deleteKeysUnder(client, prefix);
});

const target = () => ({ databaseUrl: db.url, redisUrl: cluster.url, redisPrefix: prefix });
const env = () => ({ DATABASE_URL: db.url, REDIS_URL: cluster.url, REDIS_PREFIX: prefix });
const state = () => ({ pool: db.pool, redis: client, keys });

/** Authors 1..n (by position) with 0, 1, 2, ... books; returns their ids in order. */
async function authorsWithBooks(pool: Pool, count: number): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO author (name) SELECT 'Author ' || g FROM generate_series(1, $1::int) g ORDER BY g RETURNING id`,
    [count],
  );
  const ids = rows.map((row) => row.id).sort((a, b) => a - b);
  await pool.query(
    `INSERT INTO book (author_id, title)
       SELECT a.id, 'Book ' || b FROM unnest($1::bigint[]) WITH ORDINALITY AS a(id, n), generate_series(1, a.n::int - 1) b`,
    [ids],
  );
  return ids;
}

/** How many author hashes each master holds, scanning each node directly. */
async function authorKeysPerMaster(): Promise<number[]> {
  const counts: number[] = [];
  for (const node of await masterNodes(client)) {
    let found = 0;
    let cursor = '0';
    for (let page = 0; page < 1000; page += 1) {
      const [next, keysFound] = await node.scan(cursor, 'MATCH', keys.authorPattern, 'COUNT', 1000);
      found += keysFound.length;
      cursor = next;
      if (cursor === '0') break;
    }
    counts.push(found);
  }
  return counts;
}

describe('tally on a Redis Cluster', () => {
  it('the worker mirrors counts onto every master and the API serves them with X-Count-Source: redis', async () => {
    const worker = await startTestWorker(target(), { pollIntervalMs: 50 });
    try {
      const ids = await authorsWithBooks(db.pool, 60);
      await expectConverged(state());
      const perMaster = await authorKeysPerMaster();
      expect(perMaster).toHaveLength(3);
      expect(perMaster.every((count) => count > 0)).toBe(true);
      expect(perMaster.reduce((sum, count) => sum + count, 0)).toBe(60);

      // The heartbeat script reads the epoch beside it: it publishes only because {relay} put both on one node.
      await waitFor('a heartbeat', async () => (await readHeartbeat(client, keys)) !== undefined);
      expect((await readHeartbeat(client, keys))?.worker).toBe(worker.id);
      const epoch = await checkEpoch(client, keys);
      expect(epoch.trusted).toBe(true);
      expect(epoch.masterRunIds).toHaveLength(3);

      const app = await buildApp(loadConfig(env()), { heartbeatIntervalMs: 50 });
      apps.push(app);
      const author = ids[7]!;
      await waitFor('a count served from Redis', async () => (await app.inject(`/authors/${author}/books`)).headers['x-count-source'] === 'redis');
      expect((await app.inject(`/authors/${author}/books`)).json()).toMatchObject({ count: 7 });

      await db.pool.query(`INSERT INTO book (author_id, title) VALUES ($1, 'One more')`, [author]);
      await waitFor('the new count in Redis', async () => (await readMirroredCount(client, keys, author))?.booksCount === 8);
      const page = await app.inject(`/books?author=${author}&page_size=5`);
      expect(page.headers['x-count-source']).toBe('redis');
      expect(page.json()).toMatchObject({ count: 8 });
      expect((await app.inject('/ready')).json()).toMatchObject({ redis: 'ok' });

      const status = await runCli(['outbox', 'status', '--json'], env());
      expect(status.code, status.stderr).toBe(0);
      const parsed = parseJson<{ epoch: boolean; heartbeat: { fresh: boolean }; workers: Array<{ id: string }>; queues: Record<string, unknown> }>(status);
      expect(parsed.epoch).toBe(true);
      expect(parsed.heartbeat.fresh).toBe(true);
      expect(parsed.workers.map((seen) => seen.id)).toEqual([worker.id]);
      expect(Object.keys(parsed.queues).sort()).toEqual(['backfill', 'reconcile']);
    } finally {
      await worker.stop();
    }
  });

  it('a BullMQ backfill queued by `tally counts backfill --wait` runs on the worker and mirrors the counts', async () => {
    const ids = await authorsWithBooks(db.pool, 12);
    await db.pool.query('SELECT tally.forget_books_counts($1::bigint[])', [ids]);
    const worker = await startTestWorker(target(), { jobs: true, pollIntervalMs: 50 });
    try {
      const run = await runCli(['counts', 'backfill', '--wait', '--timeout', '30', '--json'], env());
      expect(run.code, run.stderr).toBe(0);
      expect(parseJson<{ mode: string; computed: number }>(run)).toMatchObject({ mode: 'wait', computed: 12 });
      await expectConverged(state());
      expect(await readMirroredCount(client, keys, ids[11]!)).toMatchObject({ booksCount: 11 });
    } finally {
      await worker.stop();
    }
  });

  it('`tally counts verify` and `rebuild-cache` find and repair keys on every master', async () => {
    const ids = await authorsWithBooks(db.pool, 30);
    const worker = await startTestWorker(target(), { pollIntervalMs: 50 });
    try {
      await expectConverged(state());
    } finally {
      await worker.stop();
    }
    const lost = ids.filter((_, index) => index % 3 === 0);
    for (const id of lost) await client.del(keys.author(id));
    const orphan = keys.author(ids[ids.length - 1]! + 1000);
    await client.hset(orphan, 'books_count', '4', 'version', '1');

    const verify = await runCli(['counts', 'verify', '--json'], env());
    expect(verify.code, verify.stderr).toBe(3);
    const drifting = parseJson<{ drifting: Array<{ authorId: number; redisState: string }> }>(verify).drifting;
    expect(drifting.map((entry) => entry.authorId).sort((a, b) => a - b)).toEqual(lost);
    expect(new Set(drifting.map((entry) => entry.redisState))).toEqual(new Set(['missing']));

    const rebuild = await runCli(['counts', 'rebuild-cache', '--json'], env());
    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(parseJson<{ committed: boolean; orphansRemoved: number; written: number }>(rebuild)).toMatchObject({
      committed: true,
      orphansRemoved: 1,
      written: lost.length,
    });
    expect(await client.exists(orphan)).toBe(0);
    expect((await checkEpoch(client, keys)).trusted).toBe(true);

    const again = await runCli(['counts', 'verify', '--json'], env());
    expect(again.code, again.stdout + again.stderr).toBe(0);
    await expectConverged(state());
  });

  it("deleting a prefix removes its keys from every master, and no other prefix's", async () => {
    const other = redisKeys(uniquePrefix());
    const own = Array.from({ length: 40 }, (_, index) => keys.author(index + 1));
    for (const key of own) await client.set(key, '1');
    await client.set(other.author(1), 'kept');
    try {
      expect(await deleteKeysUnder(client, prefix)).toBe(40);
      expect(await authorKeysPerMaster()).toEqual([0, 0, 0]);
      expect(await client.get(other.author(1))).toBe('kept');
    } finally {
      await deleteKeysUnder(client, other.prefix);
    }
  });
});
