// The heartbeat the API trusts: present only while Redis is within COUNT_STALENESS_MS of the
// database and the Redis epoch vouches for the server; gone soon after the worker stops.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  beginEpochRebuild,
  checkEpoch,
  commitEpoch,
  mirrorCounts,
  publishTrustedHeartbeat,
  readHeartbeat,
  readServerRunId,
  readServerTimeMs,
} from '@tally/cache';
import { rebuildCache, type RunningWorker } from '@tally/worker';
import { useTestDatabase } from '../../../test/support/database.js';
import { useTestRedis } from '../../../test/support/redis.js';
import { expectConverged, resetData, waitFor } from './support/converged.js';
import { addBooks, createAuthors } from './support/writes.js';
import { startTestWorker } from './support/workers.js';

const db = useTestDatabase();
const cache = useTestRedis();
const STALENESS_MS = 600;
const target = () => ({ databaseUrl: db.url, redisUrl: cache.url, redisPrefix: cache.prefix, countStalenessMs: STALENESS_MS });
const state = () => ({ pool: db.pool, redis: cache.redis, keys: cache.keys });
const details = { worker: 'test', lagMs: 0, backlog: 0, at: new Date().toISOString() };

let worker: RunningWorker | undefined;
beforeEach(() => resetData(state()));
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

describe('the heartbeat script', () => {
  it('publishes only while the epoch names this Redis server as fully mirrored', async () => {
    const { keys, redis } = cache;
    expect(await publishTrustedHeartbeat(redis, keys, (await readServerTimeMs(redis)) + 1000, details)).toBe('withdrawn-untrusted');
    expect(await redis.exists(keys.relayHeartbeat)).toBe(0);

    const token = randomUUID();
    await beginEpochRebuild(redis, keys, token, 10_000);
    expect(await publishTrustedHeartbeat(redis, keys, (await readServerTimeMs(redis)) + 1000, details)).toBe('withdrawn-untrusted');
    expect(await commitEpoch(redis, keys, token, await readServerRunId(redis))).toBe(true);
    expect(await publishTrustedHeartbeat(redis, keys, (await readServerTimeMs(redis)) + 1000, details)).toBe('published');
    expect(await redis.pttl(keys.relayHeartbeat)).toBeGreaterThan(0);
    expect(await redis.pttl(keys.relayHeartbeat)).toBeLessThanOrEqual(1000);

    // A publish that arrives after its expiry (delayed by a stall or a reconnect) withdraws instead.
    expect(await publishTrustedHeartbeat(redis, keys, (await readServerTimeMs(redis)) - 1, details)).toBe('withdrawn-lagging');
    expect(await redis.exists(keys.relayHeartbeat)).toBe(0);
    expect(await publishTrustedHeartbeat(redis, keys, (await readServerTimeMs(redis)) + 1000, details)).toBe('published');

    // As after a restart that replayed an older AOF: the epoch names a server that is gone.
    await redis.set(keys.relayEpoch, `final:${'0'.repeat(40)}:${token}`);
    expect(await publishTrustedHeartbeat(redis, keys, (await readServerTimeMs(redis)) + 1000, details)).toBe('withdrawn-untrusted');
    expect(await redis.exists(keys.relayHeartbeat)).toBe(0);
  });

  it('a rebuild whose marker was flushed or taken over cannot commit its epoch', async () => {
    const { keys, redis } = cache;
    const runId = await readServerRunId(redis);
    const first = randomUUID();
    await beginEpochRebuild(redis, keys, first, 10_000);
    await redis.del(keys.relayEpoch);
    expect(await commitEpoch(redis, keys, first, runId)).toBe(false);
    const second = randomUUID();
    await beginEpochRebuild(redis, keys, first, 10_000);
    await beginEpochRebuild(redis, keys, second, 10_000);
    expect(await commitEpoch(redis, keys, first, runId)).toBe(false);
    expect(await commitEpoch(redis, keys, second, runId)).toBe(true);
    expect((await checkEpoch(redis, keys)).trusted).toBe(true);
  });
});

describe('rebuildCache', () => {
  it('re-mirrors every author and commits a trusted epoch; stopped midway, it drops its marker', async () => {
    const authors = await createAuthors(db.pool, 5);
    await addBooks(db.pool, authors[2]!, 3);
    const stop = new AbortController();
    const stopped = await rebuildCache(state(), { chunkSize: 2, signal: stop.signal, onProgress: () => stop.abort() });
    expect(stopped).toMatchObject({ committed: false, authors: 2 });
    expect(await cache.redis.exists(cache.keys.relayEpoch)).toBe(0);

    const progress: number[] = [];
    const done = await rebuildCache(state(), { chunkSize: 2, onProgress: (step) => progress.push(step.authors) });
    expect(done).toMatchObject({ committed: true, authors: 5 });
    expect(progress).toEqual([2, 4, 5]);
    expect((await checkEpoch(cache.redis, cache.keys)).trusted).toBe(true);
    await db.pool.query('DELETE FROM tally.count_outbox');
    await expectConverged(state());
  });
});

describe('the worker heartbeat', () => {
  it('is published with a TTL within the staleness budget, beside a presence key for the worker', async () => {
    worker = await startTestWorker(target(), { pollIntervalMs: 50 });
    await waitFor('a heartbeat', async () => (await readHeartbeat(cache.redis, cache.keys)) !== undefined);
    const heartbeat = await readHeartbeat(cache.redis, cache.keys);
    expect(heartbeat).toMatchObject({ worker: worker.id, backlog: 0 });
    expect(heartbeat!.ttlMs).toBeLessThanOrEqual(STALENESS_MS);
    const presence = JSON.parse((await cache.redis.get(cache.keys.worker(worker.id))) ?? '{}') as Record<string, unknown>;
    expect(presence).toMatchObject({ worker: worker.id, listener: 'listening', cache: 'trusted' });
  });

  it('expires when the worker stops', async () => {
    worker = await startTestWorker(target(), { pollIntervalMs: 50 });
    await waitFor('a heartbeat', async () => (await cache.redis.exists(cache.keys.relayHeartbeat)) === 1);
    await worker.stop();
    worker = undefined;
    expect(await cache.redis.pttl(cache.keys.relayHeartbeat)).toBeLessThanOrEqual(STALENESS_MS);
    await waitFor('the heartbeat to expire', async () => (await cache.redis.exists(cache.keys.relayHeartbeat)) === 0, STALENESS_MS + 2000);
  });

  it('an epoch naming another Redis run (a restart from an older AOF) makes the worker re-mirror from the column', async () => {
    worker = await startTestWorker(target(), { pollIntervalMs: 50 });
    const [a, b] = await createAuthors(db.pool, 2);
    await addBooks(db.pool, a!, 3);
    await addBooks(db.pool, b!, 2);
    await expectConverged(state());
    await waitFor('a trusted cache', () => worker!.health().cache === 'trusted');
    // What an older AOF brings back: a count from before the last change, and an author who was
    // deleted since, under an epoch written by the previous server process.
    await cache.redis.del(cache.keys.author(a!));
    await mirrorCounts(cache.redis, cache.keys, [{ authorId: a!, booksCount: 1, version: 1 }, { authorId: 999_999, booksCount: 5, version: 1 }]);
    const stale = (await cache.redis.get(cache.keys.relayEpoch))!.replace(/^final:[0-9a-f]+:/, `final:${'0'.repeat(40)}:`);
    await cache.redis.set(cache.keys.relayEpoch, stale);
    await expectConverged(state());
    await waitFor('a new epoch', async () => (await checkEpoch(cache.redis, cache.keys)).trusted);
    const rebuilds = (await worker.metrics.cacheRebuilds.get()).values.find((value) => value.labels.result === 'committed');
    expect(rebuilds?.value).toBeGreaterThanOrEqual(2);
  });
});
