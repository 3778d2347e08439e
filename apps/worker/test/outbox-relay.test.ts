// The relay against real PostgreSQL and Redis: what a client of the counts relies on after each
// kind of change, and the at-least-once corner cases (replays, Redis failing mid-batch).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedis, mirrorCounts, readMirroredCount } from '@tally/cache';
import { claimOutboxBatch, forgetBooksCounts, withTransaction } from '@tally/db';
import { RelayBatchError, relayOutboxBatch, countChangeFor, type RunningWorker } from '@tally/worker';
import { useTestDatabase } from '../../../test/support/database.js';
import { useTestRedis } from '../../../test/support/redis.js';
import { expectConverged, resetData } from './support/converged.js';
import { addBooks, createAuthors } from './support/writes.js';
import { startTestWorker } from './support/workers.js';

const db = useTestDatabase();
const cache = useTestRedis();
const target = () => ({ databaseUrl: db.url, redisUrl: cache.url, redisPrefix: cache.prefix });
const converged = () => expectConverged({ pool: db.pool, redis: cache.redis, keys: cache.keys });
const context = () => ({ pool: db.pool, redis: cache.redis, keys: cache.keys });

let worker: RunningWorker | undefined;
beforeEach(() => resetData({ pool: db.pool, redis: cache.redis, keys: cache.keys }));
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

async function metricValue(running: RunningWorker, name: 'events' | 'batches'): Promise<number> {
  return (await running.metrics[name].get()).values.reduce((sum, value) => sum + value.value, 0);
}

describe('the outbox relay', () => {
  it('mirrors writes made while no worker ran as soon as one starts', async () => {
    const [a, b] = await createAuthors(db.pool, 2);
    await addBooks(db.pool, a!, 7);
    await addBooks(db.pool, b!, 3);
    await db.pool.query('DELETE FROM book WHERE id = (SELECT min(id) FROM book WHERE author_id = $1)', [a]);
    worker = await startTestWorker(target());
    await converged();
    expect(await readMirroredCount(cache.redis, cache.keys, a!)).toMatchObject({ booksCount: 6 });
    expect(await readMirroredCount(cache.redis, cache.keys, b!)).toMatchObject({ booksCount: 3 });
  });

  it('follows inserts, deletes and moves while it runs, and mirrors new authors at 0', async () => {
    worker = await startTestWorker(target());
    await worker.whenListening();
    const [a, b, empty] = await createAuthors(db.pool, 3);
    await addBooks(db.pool, a!, 5);
    await db.pool.query('UPDATE book SET author_id = $2 WHERE id IN (SELECT id FROM book WHERE author_id = $1 ORDER BY id LIMIT 2)', [a, b]);
    await db.pool.query('DELETE FROM book WHERE id = (SELECT min(id) FROM book WHERE author_id = $1)', [a]);
    await converged();
    expect(await readMirroredCount(cache.redis, cache.keys, a!)).toMatchObject({ booksCount: 2 });
    expect(await readMirroredCount(cache.redis, cache.keys, b!)).toMatchObject({ booksCount: 2 });
    expect(await readMirroredCount(cache.redis, cache.keys, empty!)).toMatchObject({ booksCount: 0 });
  });

  it('coalesces many changes of one author into one Redis write', async () => {
    const [a] = await createAuthors(db.pool, 1);
    for (let i = 0; i < 40; i += 1) await addBooks(db.pool, a!, 1);
    worker = await startTestWorker(target());
    await converged();
    expect(await metricValue(worker, 'events')).toBe(41);
    // One Redis update for 41 outbox rows. (It may find the count already there: at start the
    // worker also re-mirrors every author, because this Redis prefix has no epoch yet.)
    const updates = (await worker.metrics.mirrored.get()).values.reduce((sum, value) => sum + value.value, 0);
    expect(updates).toBe(1);
  });

  it("deleting an author removes its key, TRUNCATE included", async () => {
    worker = await startTestWorker(target());
    const [a, b, c] = await createAuthors(db.pool, 3);
    await addBooks(db.pool, a!, 4);
    await addBooks(db.pool, c!, 1);
    await converged();
    expect(await cache.redis.exists(cache.keys.author(a!))).toBe(1);
    await db.pool.query('DELETE FROM author WHERE id = $1', [a]);
    await converged();
    expect(await cache.redis.exists(cache.keys.author(a!))).toBe(0);
    expect(await readMirroredCount(cache.redis, cache.keys, b!)).toMatchObject({ booksCount: 0 });
    await db.pool.query('TRUNCATE author CASCADE');
    await converged();
    expect(await cache.redis.exists(cache.keys.author(b!), cache.keys.author(c!))).toBe(0);
  });

  it('a forgotten (NULL) count removes the key, so readers fall back to the column', async () => {
    worker = await startTestWorker(target());
    const [a] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, a!, 2);
    await converged();
    await forgetBooksCounts(db.pool, [a!]);
    await converged();
    expect(await cache.redis.exists(cache.keys.author(a!))).toBe(0);
  });

  it('a batch replayed after a crash between the Redis write and the commit changes nothing', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, a!, 3);
    // The crash: Redis got the batch, the commit never happened, the rows are back.
    await withTransaction(db.pool, async (client) => {
      const claimed = await claimOutboxBatch(client, 100);
      await mirrorCounts(cache.redis, cache.keys, claimed.map(countChangeFor));
      throw new Error('crash before COMMIT');
    }).catch(() => {});
    const mirroredBefore = await readMirroredCount(cache.redis, cache.keys, a!);
    expect(mirroredBefore).toMatchObject({ booksCount: 3 });
    const replay = await relayOutboxBatch(context(), 100);
    expect(replay).toMatchObject({ rows: 2, authors: 1, written: 0, unchanged: 1 });
    expect(await readMirroredCount(cache.redis, cache.keys, a!)).toEqual(mirroredBefore);
    await converged();
  });

  it('an outbox row older than what Redis holds never moves the count backwards', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, a!, 2);
    await relayOutboxBatch(context(), 100);
    const { rows } = await db.pool.query<{ v: number }>('SELECT books_count_version AS v FROM author WHERE id = $1', [a]);
    // Redis already has a newer state than the database (another relay raced ahead of this one).
    await mirrorCounts(cache.redis, cache.keys, [{ authorId: a!, booksCount: 5, version: rows[0]!.v + 100 }]);
    await db.pool.query('INSERT INTO tally.count_outbox (author_id, books_count_version) VALUES ($1, $2)', [a, rows[0]!.v]);
    expect(await relayOutboxBatch(context(), 100)).toMatchObject({ rows: 1, written: 0, unchanged: 1 });
    expect(await readMirroredCount(cache.redis, cache.keys, a!)).toEqual({ booksCount: 5, version: rows[0]!.v + 100 });
  });

  it('when Redis fails mid-batch the transaction rolls back and the rows stay in the outbox', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, a!, 1);
    const broken = createRedis(cache.url, 'relay', { onError: () => {} });
    await broken.ping();
    broken.disconnect();
    const error = await relayOutboxBatch({ pool: db.pool, redis: broken, keys: cache.keys }, 100).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RelayBatchError);
    expect((error as RelayBatchError).side).toBe('redis');
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tally.count_outbox WHERE author_id = $1', [a]);
    expect(rows[0]!.n).toBe(2);
    expect(await cache.redis.exists(cache.keys.author(a!))).toBe(0);
    await relayOutboxBatch(context(), 100);
    await converged();
  });
});
