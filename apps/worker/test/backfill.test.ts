// Backfill: counts that are not computed (NULL) become exact, in chunks that can stop and resume,
// directly (as the CLI runs it) and through the BullMQ queue (as the API enqueues it).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Queue, type Job } from 'bullmq';
import { BACKFILL_ALL_JOB_ID, BACKFILL_QUEUE, JOB_OPTIONS, backfillJobId, readMirroredCount, type BackfillJobData } from '@tally/cache';
import { countAuthorsWithUnknownCount, forgetBooksCounts } from '@tally/db';
import { runBackfill, type BackfillProgress, type RunningWorker } from '@tally/worker';
import { useTestDatabase } from '../../../test/support/database.js';
import { useTestRedis } from '../../../test/support/redis.js';
import { expectConverged, resetData, waitFor } from './support/converged.js';
import { addBooks, createAuthors, writeStorm } from './support/writes.js';
import { startTestWorker } from './support/workers.js';

const db = useTestDatabase();
const cache = useTestRedis();
const target = () => ({ databaseUrl: db.url, redisUrl: cache.url, redisPrefix: cache.prefix });
const state = () => ({ pool: db.pool, redis: cache.redis, keys: cache.keys });
let worker: RunningWorker | undefined;

beforeEach(() => resetData(state()));
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

async function authorsWithForgottenCounts(count: number): Promise<number[]> {
  const authors = await createAuthors(db.pool, count);
  for (const [index, author] of authors.entries()) await addBooks(db.pool, author, index + 1);
  await forgetBooksCounts(db.pool, authors);
  await expectConverged(state());
  expect(await countAuthorsWithUnknownCount(db.pool)).toBe(count);
  return authors;
}

async function finished(queue: Queue<BackfillJobData>, job: Job<BackfillJobData>): Promise<Job<BackfillJobData>> {
  try {
    await waitFor(`job ${job.id} to complete`, async () => (await job.getState()) === 'completed', 20_000);
  } catch (error) {
    const latest = await queue.getJob(job.id!);
    throw new Error(`${String(error)}; state ${await job.getState()}, failedReason ${latest?.failedReason}, attempts ${latest?.attemptsMade}`, { cause: error });
  }
  return (await queue.getJob(job.id!))!;
}

describe('backfill', () => {
  it('computes NULL counts in chunks, can stop after any chunk and resume where it stopped, while writers continue', async () => {
    worker = await startTestWorker(target());
    const authors = await authorsWithForgottenCounts(7);
    const stop = new AbortController();
    const seen: BackfillProgress[] = [];
    const first = await runBackfill(state(), {
      chunkSize: 3,
      signal: stop.signal,
      onProgress: (progress) => {
        seen.push(progress);
        stop.abort();
      },
    });
    expect(first).toEqual({ computed: 3, afterId: authors[2], total: 7 });
    expect(seen).toEqual([first]);
    expect(await countAuthorsWithUnknownCount(db.pool)).toBe(4);
    // Computed counts are usable at once (mirrored by the backfill itself).
    expect(await readMirroredCount(cache.redis, cache.keys, authors[0]!)).toMatchObject({ booksCount: 1 });

    const [rest] = await Promise.all([
      runBackfill(state(), { chunkSize: 3, afterId: first.afterId }),
      writeStorm(db.pool, authors, { operations: 30, writers: 2 }),
    ]);
    // It resumed after the first chunk; where it ended depends on which counts the writers computed.
    expect(rest.afterId).toBeGreaterThanOrEqual(first.afterId);
    // Writers touching a NULL author compute its count themselves; backfill does the others.
    expect(first.computed + rest.computed).toBeLessThanOrEqual(7);
    expect(await countAuthorsWithUnknownCount(db.pool)).toBe(0);
    await expectConverged(state());
  });

  it('the backfill queue computes every unknown count, or one author, with progress and retries configured', async () => {
    worker = await startTestWorker(target(), { jobs: true });
    const authors = await authorsWithForgottenCounts(5);
    const queue = new Queue<BackfillJobData>(BACKFILL_QUEUE, { connection: { url: cache.url }, prefix: cache.keys.bullPrefix });
    try {
      const single = await finished(
        queue,
        await queue.add('backfill', { authorIds: [authors[4]!], reason: 'api-count-fallback' }, { ...JOB_OPTIONS, jobId: backfillJobId(authors[4]!) }),
      );
      expect(single.returnvalue).toMatchObject({ computed: 1, total: 1 });
      expect(await readMirroredCount(cache.redis, cache.keys, authors[4]!)).toMatchObject({ booksCount: 5 });

      // A job retried after a failure carries its resume point in its data.
      const resumed = await finished(queue, await queue.add('backfill', { reason: 'cli', afterId: authors[1]! }, JOB_OPTIONS));
      expect(resumed.returnvalue).toMatchObject({ computed: 2, afterId: authors[3] });
      expect(resumed.progress).toMatchObject({ computed: 2 });
      expect(resumed.opts.attempts).toBe(JOB_OPTIONS.attempts);

      const all = await finished(queue, await queue.add('backfill', { reason: 'cli' }, { ...JOB_OPTIONS, jobId: BACKFILL_ALL_JOB_ID }));
      expect(all.returnvalue).toMatchObject({ computed: 2, total: 2, afterId: authors[1] });
    } finally {
      await queue.close();
    }
    expect(await countAuthorsWithUnknownCount(db.pool)).toBe(0);
    await expectConverged(state());
  });
});
