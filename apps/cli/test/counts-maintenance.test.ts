// `tally counts backfill` (enqueue, --inline, --wait) and `tally counts rebuild-cache` on real
// data, through the worker's own backfill and rebuild.
import { BACKFILL_ALL_JOB_ID, BACKFILL_QUEUE } from '@tally/cache';
import { Queue } from 'bullmq';
import { beforeEach, describe, expect, it } from 'vitest';
import { deletePrefix, useTestDatabase, useTestRedis } from '../../../test/support/index.js';
import { parseJson, runCli } from './run-cli.js';
import { startWorkerProcess, workerBuilt } from './worker-process.js';

const db = useTestDatabase();
const redis = useTestRedis();
const env = () => ({ DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix });

interface SeedResult {
  firstAuthorId: number;
  lastAuthorId: number;
}
interface BackfillResult {
  mode: string;
  jobId: string | null;
  alreadyQueued: boolean;
  computed: number | null;
  total: number | null;
}

async function seedWithNullCounts(authors: number, books: number): Promise<SeedResult> {
  const run = await runCli(['seed', '--authors', String(authors), '--books', String(books), '--null-counts', '--json'], env());
  expect(run.code, run.stderr).toBe(0);
  return parseJson<SeedResult>(run);
}

async function columnCounts(seed: SeedResult): Promise<Array<{ id: number; books_count: number | null; actual: number }>> {
  const { rows } = await db.pool.query<{ id: number; books_count: number | null; actual: number }>(
    `SELECT a.id, a.books_count, (SELECT count(*) FROM book b WHERE b.author_id = a.id) AS actual
       FROM author a WHERE a.id BETWEEN $1 AND $2 ORDER BY a.id`,
    [seed.firstAuthorId, seed.lastAuthorId],
  );
  return rows;
}

beforeEach(async () => {
  await db.pool.query('TRUNCATE book, author, tally.count_outbox');
  await deletePrefix(redis.redis, redis.prefix);
});

describe('tally counts backfill', () => {
  it('--inline computes every NULL count in this process and mirrors it to Redis', async () => {
    const seed = await seedWithNullCounts(6, 600);
    const run = await runCli(['counts', 'backfill', '--inline', '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    expect(parseJson<BackfillResult>(run)).toMatchObject({ mode: 'inline', computed: 6, total: 6 });
    for (const author of await columnCounts(seed)) {
      expect(author.books_count).toBe(100);
      expect(await redis.redis.hget(redis.keys.author(author.id), 'books_count')).toBe('100');
    }
  });

  it('by default enqueues one backfill job for the worker, deduplicated while it waits', async () => {
    await seedWithNullCounts(2, 20);
    const first = parseJson<BackfillResult>(await runCli(['counts', 'backfill', '--json'], env()));
    const second = parseJson<BackfillResult>(await runCli(['counts', 'backfill', '--json'], env()));
    expect(first).toMatchObject({ mode: 'enqueue', jobId: BACKFILL_ALL_JOB_ID, alreadyQueued: false });
    expect(second).toMatchObject({ mode: 'enqueue', jobId: BACKFILL_ALL_JOB_ID, alreadyQueued: true });
    const queue = new Queue(BACKFILL_QUEUE, { connection: redis.redis, prefix: redis.keys.bullPrefix });
    try {
      expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
      expect((await queue.getJob(BACKFILL_ALL_JOB_ID))?.data).toEqual({ reason: 'cli' });
    } finally {
      await queue.close();
    }
    // Nothing ran: the counts are still NULL until a worker takes the job.
    const { rows } = await db.pool.query('SELECT 1 FROM author WHERE books_count IS NULL');
    expect(rows).toHaveLength(2);
  });

  it.skipIf(!workerBuilt())('--wait hands the job to a running worker and returns when it finished', async () => {
    const seed = await seedWithNullCounts(4, 40);
    const worker = await startWorkerProcess(env());
    try {
      const run = await runCli(['counts', 'backfill', '--wait', '--timeout', '50', '--json'], env());
      expect(run.code, run.stderr).toBe(0);
      expect(parseJson<BackfillResult>(run)).toMatchObject({ mode: 'wait', computed: 4, total: 4 });
      expect((await columnCounts(seed)).map((author) => author.books_count)).toEqual([10, 10, 10, 10]);
    } finally {
      expect(await worker.stop()).toBe(0);
    }
  });

  it('--wait without a worker gives up after --timeout and says what to do', async () => {
    await seedWithNullCounts(1, 1);
    const run = await runCli(['counts', 'backfill', '--wait', '--timeout', '1'], env());
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('did not finish');
    expect(run.stderr).toContain('--inline');
  });
});

describe('tally counts rebuild-cache', () => {
  it('re-mirrors every author from the column after Redis lost its keys, and commits an epoch', async () => {
    await db.pool.query(`INSERT INTO author (name) SELECT 'a' || g FROM generate_series(1, 5) g`);
    await db.pool.query(`INSERT INTO book (author_id, title) SELECT id, 'b' FROM author, generate_series(1, 3)`);
    expect(await redis.redis.exists(redis.keys.relayEpoch)).toBe(0);

    const run = await runCli(['counts', 'rebuild-cache', '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    expect(parseJson<{ authors: number; committed: boolean }>(run)).toMatchObject({ authors: 5, committed: true });
    const { rows } = await db.pool.query<{ id: number; books_count_version: number }>('SELECT id, books_count_version FROM author');
    for (const row of rows) {
      expect(await redis.redis.hgetall(redis.keys.author(row.id))).toEqual({ books_count: '3', version: String(row.books_count_version) });
    }
    expect(await redis.redis.exists(redis.keys.relayEpoch)).toBe(1);
  });
});
