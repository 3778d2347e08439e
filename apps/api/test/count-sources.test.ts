// The count resolver through the API, one source at a time: Redis only while the worker's
// heartbeat lives, the column otherwise (and when Redis is down), COUNT(*) for a NULL column with
// one query per burst and a backfill job. The worker is simulated by writing its heartbeat and
// mirrored counts with the @tally/cache functions it uses.
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { BACKFILL_ALL_JOB_ID, BACKFILL_QUEUE, backfillJobId, mirrorCounts, publishHeartbeat, type BackfillJobData } from '@tally/cache';
import { forgetBooksCounts } from '@tally/db';
import { useTestDatabase, useTestRedis } from '@tally/test-support';
import { authorWithBooks, useApps, type PageBody } from './helpers.js';

const db = useTestDatabase();
const redis = useTestRedis();
const buildApi = useApps(db, redis);
type Api = Awaited<ReturnType<typeof buildApi>>;

const heartbeat = { worker: 'test:1', lagMs: 0, backlog: 0, at: new Date().toISOString() };

async function page(api: Api, url: string) {
  const response = await api.inject({ method: 'GET', url });
  expect(response.statusCode, response.body).toBe(200);
  return { body: response.json() as PageBody, source: response.headers['x-count-source'] };
}

/** Pretends to be a caught-up worker that mirrored `count` for the author. */
async function mirror(authorId: number, count: number, version = 1_000_000): Promise<void> {
  await mirrorCounts(redis.redis, redis.keys, [{ authorId, booksCount: count, version }]);
}

async function freshWorker(api: Api, ttlMs = 60_000): Promise<void> {
  await publishHeartbeat(redis.redis, redis.keys, ttlMs, heartbeat);
  await api.heartbeat.refresh();
}

/** A counter's value from the app's /metrics page. */
async function metricValue(api: Api, name: string, labels: string): Promise<number> {
  const text = (await api.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

function backfillQueue(): Queue<BackfillJobData> {
  const queue = new Queue<BackfillJobData>(BACKFILL_QUEUE, { connection: redis.redis, prefix: redis.keys.bullPrefix });
  queue.on('error', () => {});
  return queue;
}

describe('where a page\'s count comes from', () => {
  it('serves the mirrored count from Redis while the worker heartbeat is alive', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 5);
    await mirror(id, 40); // deliberately not the column's 5, to see which source answered
    await freshWorker(api);
    const first = await page(api, `/authors/${id}/books?page_size=2`);
    expect(first.source).toBe('redis');
    expect(first.body.count).toBe(40);
    expect(await metricValue(api, 'tally_api_counted_responses_total', 'source="redis"')).toBe(1);
  });

  it('falls back to the column when the heartbeat is missing or has expired', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 5);
    await mirror(id, 40);
    await redis.redis.del(redis.keys.relayHeartbeat);
    await api.heartbeat.refresh();
    const missing = await page(api, `/authors/${id}/books?page_size=2`);
    expect(missing.source).toBe('column');
    expect(missing.body.count).toBe(5);

    await freshWorker(api, 300);
    expect((await page(api, `/authors/${id}/books?page_size=2`)).source).toBe('redis');
    let source: unknown = 'redis';
    for (let attempt = 0; attempt < 100 && source === 'redis'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      source = (await page(api, `/authors/${id}/books?page_size=2`)).source;
    }
    expect(source).toBe('column');
  });

  it('falls back to the column when Redis has no count for the author', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 5);
    await freshWorker(api);
    const result = await page(api, `/authors/${id}/books`);
    expect(result.source).toBe('column');
    expect(result.body.count).toBe(5);
  });

  it('ignores Redis when COUNT_SOURCES leaves it out', async () => {
    const api = await buildApi({ COUNT_SOURCES: 'column,count' });
    const { id } = await authorWithBooks(db.pool, 'Ann', 5);
    await mirror(id, 40);
    await freshWorker(api);
    expect((await page(api, `/authors/${id}/books`)).source).toBe('column');
  });

  it('raises a lagging Redis count to what the rows prove, and serves pages past it', async () => {
    const api = await buildApi();
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 30);
    await mirror(id, 3);
    await freshWorker(api);
    const first = await page(api, `/authors/${id}/books`);
    expect(first.source).toBe('redis');
    expect(first.body.count).toBe(21); // 20 rows on the page and one more seen after it
    expect(first.body.next).not.toBeNull();
    // Redis says 3 books (one page); the second page exists and is served, with the exact count.
    const second = await page(api, `/authors/${id}/books?page=2`);
    expect(second.body.results.map((book) => book.id)).toEqual(bookIds.slice(20));
    expect(second.body.count).toBe(30);
    const cursor = await page(api, `/authors/${id}/books?cursor=&page_size=10`);
    expect(cursor.body.count).toBe(11);
  });

  it('finds the last page with an exact source when a lagging Redis count points past the end', async () => {
    const api = await buildApi();
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 30);
    await mirror(id, 100); // deletes not mirrored yet
    await freshWorker(api);
    const last = await page(api, `/authors/${id}/books?page=last`);
    expect(last.body.results.map((book) => book.id)).toEqual(bookIds.slice(20));
    expect(last.body.count).toBe(30);
    expect(last.body.next).toBeNull();
  });

  it('answers 404 for a deleted author whose Redis count has not been removed yet', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Gone', 3);
    await mirror(id, 3);
    await freshWorker(api);
    await db.pool.query('DELETE FROM author WHERE id = $1', [id]);
    const response = await api.inject({ method: 'GET', url: `/authors/${id}/books` });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: 'Not found.' });
  });

  it('counts a NULL column with COUNT(*) and queues a backfill job for that author', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Legacy', 12);
    await forgetBooksCounts(db.pool, [id]);
    const result = await page(api, `/authors/${id}/books?page_size=5`);
    expect(result.source).toBe('count');
    expect(result.body.count).toBe(12);
    // The resource shows the column as it is: null until a backfill computes it.
    expect((await api.inject({ method: 'GET', url: `/authors/${id}` })).json()).toMatchObject({ books_count: null });
    const queue = backfillQueue();
    try {
      let job = await queue.getJob(backfillJobId(id));
      for (let attempt = 0; attempt < 50 && !job; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        job = await queue.getJob(backfillJobId(id));
      }
      expect(job?.data).toEqual({ authorIds: [id], reason: 'api-count-fallback' });
    } finally {
      await queue.close();
    }
  });

  it('runs one COUNT(*) for 50 concurrent requests about the same NULL author', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Legacy', 2000);
    await forgetBooksCounts(db.pool, [id]);
    const before = await metricValue(api, 'tally_api_count_queries_total', 'scope="author"');
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => api.inject({ method: 'GET', url: `/authors/${id}/books` })),
    );
    for (const response of responses) {
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-count-source']).toBe('count');
      expect((response.json() as PageBody).count).toBe(2000);
    }
    expect((await metricValue(api, 'tally_api_count_queries_total', 'scope="author"')) - before).toBe(1);
  });

  it('with COUNT_SOURCES=redis, answers 503 rather than fall back when Redis cannot count', async () => {
    const api = await buildApi({ COUNT_SOURCES: 'redis' });
    const { id } = await authorWithBooks(db.pool, 'Ann', 3);
    await freshWorker(api);
    const unmirrored = await api.inject({ method: 'GET', url: `/authors/${id}/books` });
    expect(unmirrored.statusCode).toBe(503);
    expect(unmirrored.json().detail).toContain('COUNT_SOURCES (redis)');
    await mirror(id, 3);
    expect(await page(api, `/authors/${id}/books`)).toMatchObject({ source: 'redis', body: { count: 3 } });
  });

  it('with COUNT_SOURCES=count, counts every request afresh (coalesced, never reused)', async () => {
    const api = await buildApi({ COUNT_SOURCES: 'count' });
    const { id } = await authorWithBooks(db.pool, 'Ann', 3);
    const first = await page(api, `/authors/${id}/books?page_size=2`);
    expect(first).toMatchObject({ source: 'count', body: { count: 3 } });
    await db.pool.query(`INSERT INTO book (author_id, title) VALUES ($1, 'a'), ($1, 'b')`, [id]);
    expect((await page(api, `/authors/${id}/books?page_size=2`)).body.count).toBe(5);
    const missing = await api.inject({ method: 'GET', url: '/authors/987654/books' });
    expect(missing.statusCode).toBe(404);
  });

  it('answers 503 instead of running COUNT(*) when COUNT_SOURCES excludes it, and still asks for a backfill', async () => {
    const api = await buildApi({ COUNT_SOURCES: 'redis,column' });
    const { id } = await authorWithBooks(db.pool, 'Legacy', 3);
    await forgetBooksCounts(db.pool, [id]);
    const response = await api.inject({ method: 'GET', url: `/authors/${id}/books` });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.json()).toEqual({ detail: expect.stringContaining('COUNT_SOURCES') });
    expect(await metricValue(api, 'tally_api_count_queries_total', 'scope="author"')).toBe(0);
  });

  it('counts all books with COUNT(*) while some author\'s count is unknown, and queues a full backfill', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Legacy', 4);
    await forgetBooksCounts(db.pool, [id]);
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*) AS n FROM book');
    const result = await page(api, '/books');
    expect(result.source).toBe('count');
    expect(result.body.count).toBe(rows[0]!.n);
    const queue = backfillQueue();
    try {
      let job = await queue.getJob(BACKFILL_ALL_JOB_ID);
      for (let attempt = 0; attempt < 50 && !job; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        job = await queue.getJob(BACKFILL_ALL_JOB_ID);
      }
      expect(job?.data).toEqual({ reason: 'api-count-fallback' });
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      await db.pool.query('SELECT tally.refresh_books_counts($1::bigint[])', [[id]]);
    }
  });

  it('never writes counts to Redis itself', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 3);
    await forgetBooksCounts(db.pool, [id]);
    await freshWorker(api);
    await page(api, `/authors/${id}/books`);
    await api.inject({ method: 'POST', url: '/books', payload: { author_id: id, title: 'new' } });
    await page(api, `/authors/${id}/books`);
    expect(await redis.redis.exists(redis.keys.author(id))).toBe(0);
  });
});

describe('counts follow writes', () => {
  it('after API writes: create, delete and a move between authors', async () => {
    const api = await buildApi();
    const a = await authorWithBooks(db.pool, 'Ann', 3);
    const b = await authorWithBooks(db.pool, 'Bob', 1);
    const countOf = async (authorId: number) => (await page(api, `/authors/${authorId}/books`)).body.count;
    const created = await api.inject({ method: 'POST', url: '/books', payload: { author_id: a.id, title: 'new' } });
    expect(created.statusCode).toBe(201);
    expect(await countOf(a.id)).toBe(4);
    await api.inject({ method: 'DELETE', url: `/books/${a.bookIds[0]}` });
    expect(await countOf(a.id)).toBe(3);
    const moved = await api.inject({ method: 'PATCH', url: `/books/${a.bookIds[1]}`, payload: { author_id: b.id } });
    expect(moved.statusCode).toBe(200);
    expect(await countOf(a.id)).toBe(2);
    expect(await countOf(b.id)).toBe(2);
    const author = await api.inject({ method: 'GET', url: `/authors/${b.id}` });
    expect(author.json()).toMatchObject({ books_count: 2 });
  });

  it('after plain SQL writes', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 3);
    await db.pool.query(`INSERT INTO book (author_id, title) SELECT $1, 'sql ' || g FROM generate_series(1, 40) g`, [id]);
    expect((await page(api, `/authors/${id}/books`)).body.count).toBe(43);
    await db.pool.query(`DELETE FROM book WHERE author_id = $1 AND title LIKE 'sql %'`, [id]);
    const after = await page(api, `/authors/${id}/books`);
    expect(after.body.count).toBe(3);
    expect(after.source).toBe('column');
  });

  it('refuses a deep page past an exact count without reading rows, but serves one a lagging Redis count hides', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Deep', 10_250);
    // page 102 of 100 starts at row 10,100: past the deep-offset threshold, so the count comes first.
    const deep = await page(api, `/authors/${id}/books?page_size=100&page=102`);
    expect(deep.body.results).toHaveLength(100);
    expect(deep.source).toBe('column');
    const pastEnd = await api.inject({ method: 'GET', url: `/books?page=400000000000` });
    expect(pastEnd.statusCode).toBe(404);
    expect(pastEnd.json()).toEqual({ detail: 'Invalid page.' });
    // Redis says 10,000 (lagging); rows beyond it exist and are served after an exact recount.
    await mirror(id, 10_000);
    await freshWorker(api);
    const hidden = await page(api, `/authors/${id}/books?page_size=100&page=102`);
    expect(hidden.body.results).toHaveLength(100);
    expect(hidden.body.count).toBeGreaterThanOrEqual(10_201);
    const beyond = await api.inject({ method: 'GET', url: `/authors/${id}/books?page_size=100&page=104` });
    expect(beyond.statusCode).toBe(404);
  });
});
