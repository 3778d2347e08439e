// Reconcile: finds counts that drifted behind the triggers' back and Redis hashes that are wrong,
// repairs both (the column exactly, Redis only forward), and reports every drifting author.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RECONCILE_QUEUE, RECONCILE_SCHEDULER_ID, mirrorCounts, readMirroredCount } from '@tally/cache';
import { Queue } from 'bullmq';
import { reconcileOnce, type ColumnDrift, type RunningWorker } from '@tally/worker';
import { useTestDatabase } from '../../../test/support/database.js';
import { useTestRedis } from '../../../test/support/redis.js';
import { divergences, expectConverged, resetData, waitFor } from './support/converged.js';
import { addBooks, addBooksBehindTheCounter, createAuthors, writeStorm } from './support/writes.js';
import { startTestWorker } from './support/workers.js';

const db = useTestDatabase();
const cache = useTestRedis();
const target = () => ({ databaseUrl: db.url, redisUrl: cache.url, redisPrefix: cache.prefix, reconcileIntervalMs: 1000 });
const state = () => ({ pool: db.pool, redis: cache.redis, keys: cache.keys });
let worker: RunningWorker | undefined;

beforeEach(() => resetData(state()));
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

describe('reconcile', () => {
  it('repairs column drift made with triggers off and wrong Redis hashes while writers continue, and reports each drifting author', async () => {
    worker = await startTestWorker(target());
    const [hidden5, hidden3, missing, older, tampered, ...busy] = await createAuthors(db.pool, 10);
    for (const author of [hidden5!, hidden3!, missing!, older!, tampered!, ...busy]) await addBooks(db.pool, author, 4);
    await expectConverged(state());

    await addBooksBehindTheCounter(db.pool, hidden5!, 5);
    await addBooksBehindTheCounter(db.pool, hidden3!, 3);
    const column = (id: number) => db.pool.query<{ v: number }>('SELECT books_count_version AS v FROM author WHERE id = $1', [id]);
    await cache.redis.del(cache.keys.author(missing!));
    await cache.redis.hset(cache.keys.author(older!), 'books_count', '1', 'version', '1');
    await cache.redis.hset(cache.keys.author(tampered!), 'books_count', '77', 'version', String((await column(tampered!)).rows[0]!.v));
    await mirrorCounts(cache.redis, cache.keys, [{ authorId: 999_999_999, booksCount: 3, version: 1 }]);
    expect((await divergences(state())).length).toBe(6);

    const reported: ColumnDrift[] = [];
    const [result] = await Promise.all([
      reconcileOnce(state(), { chunkSize: 4, onColumnDrift: (drift) => reported.push(drift) }),
      writeStorm(db.pool, busy, { operations: 40, writers: 2 }),
    ]);
    expect(result.complete).toBe(true);
    expect(result.scanned).toBe(10);
    expect(result.columnDrift).toBe(2);
    expect(reported.map(({ authorId, column: before, actual }) => ({ authorId, before, actual }))).toEqual([
      { authorId: hidden5, before: 4, actual: 9 },
      { authorId: hidden3, before: 4, actual: 7 },
    ]);
    expect(result.drifting).toEqual(reported);
    expect(result.redisDrift).toBe(4);
    expect(result.orphansRemoved).toBe(1);
    await expectConverged(state());
    expect(await readMirroredCount(cache.redis, cache.keys, hidden5!)).toMatchObject({ booksCount: 9 });
    expect(await readMirroredCount(cache.redis, cache.keys, tampered!)).toMatchObject({ booksCount: 4 });
  });

  it('a Redis hash newer than the column snapshot is left alone (never a forced write)', async () => {
    const [author] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, author!, 2);
    const { rows } = await db.pool.query<{ v: number }>('SELECT books_count_version AS v FROM author WHERE id = $1', [author]);
    // As if a relay mirrored a newer change after reconcile read the column.
    await mirrorCounts(cache.redis, cache.keys, [{ authorId: author!, booksCount: 3, version: rows[0]!.v + 1 }]);
    const result = await reconcileOnce(state());
    expect(result.redisDrift).toBe(0);
    expect(await readMirroredCount(cache.redis, cache.keys, author!)).toEqual({ booksCount: 3, version: rows[0]!.v + 1 });
  });

  it('the job scheduler runs reconcile every RECONCILE_INTERVAL_MS and repairs drift without anyone asking', async () => {
    worker = await startTestWorker(target(), { jobs: true });
    const [author] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, author!, 2);
    await expectConverged(state());
    await addBooksBehindTheCounter(db.pool, author!, 6);
    await expectConverged(state(), { timeoutMs: 20_000 });
    expect(await readMirroredCount(cache.redis, cache.keys, author!)).toMatchObject({ booksCount: 8 });
    await waitFor('the drift metric', async () => {
      const found = (await worker!.metrics.driftFound.get()).values.find((value) => value.labels.where === 'column');
      return (found?.value ?? 0) >= 1;
    });
  });

  it('a changed RECONCILE_INTERVAL_MS replaces the scheduler Redis kept from the last run', async () => {
    const queue = new Queue(RECONCILE_QUEUE, { connection: { url: cache.url }, prefix: cache.keys.bullPrefix });
    try {
      worker = await startTestWorker({ ...target(), reconcileIntervalMs: 60_000 }, { jobs: true });
      await waitFor('the scheduler', async () => Number((await queue.getJobScheduler(RECONCILE_SCHEDULER_ID))?.every) === 60_000);
      await worker.stop();
      worker = await startTestWorker({ ...target(), reconcileIntervalMs: 5_000 }, { jobs: true });
      await waitFor('the new interval', async () => Number((await queue.getJobScheduler(RECONCILE_SCHEDULER_ID))?.every) === 5_000);
    } finally {
      await queue.close();
    }
  });
});
