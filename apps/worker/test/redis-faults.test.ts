// Redis losing data under the worker, on a private redis-server (never the shared one): FLUSHALL
// and a crash + restart. The worker must notice, keep the heartbeat withdrawn until Redis is
// whole again, rebuild from the column, recreate the reconcile scheduler, and lose no change.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { checkEpoch, defineScripts, readHeartbeat, RECONCILE_QUEUE, RECONCILE_SCHEDULER_ID, redisKeys } from '@tally/cache';
import type { RunningWorker } from '@tally/worker';
import { Queue } from 'bullmq';
import { useTestDatabase } from '../../../test/support/database.js';
import { startRedisServer, type RedisServer } from '../../../test/support/redis-server.js';
import { uniquePrefix } from '../../../test/support/redis.js';
import { expectConverged, resetData, waitFor } from './support/converged.js';
import { addBooks, createAuthors, writeStorm } from './support/writes.js';
import { startTestWorker } from './support/workers.js';

const db = useTestDatabase();
const keys = redisKeys(uniquePrefix());
let server: RedisServer;
let redis: Redis;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  server = await startRedisServer({ appendOnly: true });
  redis = defineScripts(new Redis(server.url, { maxRetriesPerRequest: 1 }));
  redis.on('error', () => {});
});
afterAll(async () => {
  redis?.disconnect();
  await server?.destroy();
});
const state = () => ({ pool: db.pool, redis, keys });
const target = () => ({ databaseUrl: db.url, redisUrl: server.url, redisPrefix: keys.prefix, countStalenessMs: 1000 });
beforeEach(() => resetData(state()));
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

/**
 * Samples, until stopped, whether a heartbeat was published while the epoch did not vouch for the
 * server. A heartbeat restored from the AOF with the data it was written for is not such a case:
 * it still tells the truth about that data and expires on time; `restoredBefore` excludes those.
 */
function watchHeartbeatTrust(restoredBefore?: Date) {
  let violations = 0;
  let running = true;
  const loop = (async () => {
    for (let i = 0; running && i < 20_000; i += 1) {
      try {
        const [heartbeat, epoch] = await Promise.all([readHeartbeat(redis, keys), checkEpoch(redis, keys)]);
        const restored = restoredBefore !== undefined && heartbeat !== undefined && new Date(heartbeat.at) < restoredBefore;
        if (heartbeat && !epoch.trusted && !restored) violations += 1;
      } catch {
        // Redis down: nothing to observe.
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return violations;
    },
  };
}

describe('Redis losing data under the worker', () => {
  it('FLUSHALL: heartbeat withdrawn, counts re-mirrored from the column, reconcile scheduler recreated', async () => {
    worker = await startTestWorker(target(), { pollIntervalMs: 50, jobs: true, schedulerCheckIntervalMs: 300 });
    const authors = await createAuthors(db.pool, 30);
    for (const [index, author] of authors.entries()) await addBooks(db.pool, author, index % 7);
    await expectConverged(state());
    await waitFor('a trusted cache', () => worker!.health().cache === 'trusted');
    const queue = new Queue(RECONCILE_QUEUE, { connection: { url: server.url }, prefix: keys.bullPrefix });
    try {
      await waitFor('the reconcile scheduler', async () => (await queue.getJobScheduler(RECONCILE_SCHEDULER_ID)) !== undefined);
      const watcher = watchHeartbeatTrust();
      await redis.flushall();
      // Writes go on meanwhile; some land before the rebuild, some during, some after.
      await writeStorm(db.pool, authors, { operations: 40, writers: 2, pauseMs: 5 });
      await expectConverged(state());
      await waitFor('the heartbeat to return', async () => (await redis.exists(keys.relayHeartbeat)) === 1);
      expect(await watcher.stop()).toBe(0);
      await waitFor('the reconcile scheduler to be recreated', async () => (await queue.getJobScheduler(RECONCILE_SCHEDULER_ID)) !== undefined);
    } finally {
      await queue.close();
    }
  });

  it('crash and restart: changes made while Redis was down wait in the outbox and are mirrored after the rebuild', async () => {
    worker = await startTestWorker(target(), { pollIntervalMs: 50 });
    const authors = await createAuthors(db.pool, 10);
    await writeStorm(db.pool, authors, { operations: 30 });
    await expectConverged(state());
    await waitFor('a trusted cache', () => worker!.health().cache === 'trusted');
    const before = await checkEpoch(redis, keys);

    await server.stop('kill');
    const killedAt = new Date();
    await writeStorm(db.pool, authors, { operations: 30 });
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tally.count_outbox');
    expect(rows[0]!.n).toBeGreaterThan(0);
    await waitFor('the health check to report Redis down', () => worker!.health().problems.some((problem) => problem.startsWith('redis')));
    const response = await fetch(`http://127.0.0.1:${worker.port}/health`);
    expect(response.status).toBe(503);

    const watcher = watchHeartbeatTrust(killedAt);
    await server.start();
    await expectConverged(state());
    await waitFor('the heartbeat to return', async () => (await redis.exists(keys.relayHeartbeat)) === 1);
    expect(await watcher.stop()).toBe(0);
    const after = await checkEpoch(redis, keys);
    expect(after.trusted).toBe(true);
    expect(after.serverRunId).not.toBe(before.serverRunId);
    await waitFor('a healthy worker', () => worker!.health().status === 'ok');
  });

  it('Redis out of memory (noeviction): changes wait in the outbox, the heartbeat lapses, and both recover', async () => {
    worker = await startTestWorker(target(), { pollIntervalMs: 50 });
    const [a] = await createAuthors(db.pool, 1);
    await expectConverged(state());
    await waitFor('a heartbeat', async () => (await redis.exists(keys.relayHeartbeat)) === 1);
    await redis.config('SET', 'maxmemory', '1');
    try {
      await addBooks(db.pool, a!, 2);
      // Every write is refused: the relay rolls back and keeps the outbox row; the heartbeat expires.
      await waitFor('the heartbeat to lapse', async () => (await redis.exists(keys.relayHeartbeat)) === 0, 5000);
      await waitFor('the worker to report it', () => worker!.health().heartbeatTtlMs === 0);
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM tally.count_outbox');
      expect(rows[0].n).toBeGreaterThan(0);
      const errors = (await worker.metrics.errors.get()).values.find((value) => value.labels.kind === 'relay_redis');
      expect(errors?.value).toBeGreaterThan(0);
    } finally {
      await redis.config('SET', 'maxmemory', '0');
    }
    await expectConverged(state());
    await waitFor('the heartbeat to return', async () => (await redis.exists(keys.relayHeartbeat)) === 1);
  });
});
