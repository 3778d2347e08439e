// A bulk load of one author in one statement: the statement-level trigger writes one outbox row,
// the relay one Redis write, and the mirrored count is exact. (Takes a few seconds: one test.)
import { afterEach, describe, expect, it } from 'vitest';
import { readMirroredCount } from '@tally/cache';
import type { RunningWorker } from '@tally/worker';
import { useTestDatabase } from '../../../test/support/database.js';
import { useTestRedis } from '../../../test/support/redis.js';
import { expectConverged } from './support/converged.js';
import { createAuthors } from './support/writes.js';
import { startTestWorker } from './support/workers.js';

const db = useTestDatabase();
const cache = useTestRedis();
let worker: RunningWorker | undefined;
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

describe('bulk writes', () => {
  it('a 1,000,000-row INSERT ... SELECT in one statement is mirrored exactly', async () => {
    worker = await startTestWorker({ databaseUrl: db.url, redisUrl: cache.url, redisPrefix: cache.prefix });
    await worker.whenListening();
    const [author, other] = await createAuthors(db.pool, 2);
    await db.pool.query(
      `INSERT INTO book (author_id, title)
       SELECT CASE WHEN g % 100 = 0 THEN $2 ELSE $1 END::bigint, 'bulk ' || g FROM generate_series(1, 1000000) g`,
      [author, other],
    );
    await expectConverged({ pool: db.pool, redis: cache.redis, keys: cache.keys }, { timeoutMs: 30_000 });
    expect(await readMirroredCount(cache.redis, cache.keys, author!)).toMatchObject({ booksCount: 990_000 });
    expect(await readMirroredCount(cache.redis, cache.keys, other!)).toMatchObject({ booksCount: 10_000 });
    expect((await worker.metrics.events.get()).values[0]?.value).toBe(4);
  }, 120_000);
});
