// Cursor mode on the same endpoints: `cursor` (even empty) selects it; opaque keyset cursors walk
// every row exactly once in both directions; a cursor that does not decode is 404 "Invalid cursor".
import { describe, expect, it } from 'vitest';
import { useTestDatabase, useTestRedis } from '@tally/test-support';
import { authorWithBooks, pathOf, useApps, type PageBody } from './helpers.js';

const db = useTestDatabase();
const redis = useTestRedis();
const buildApi = useApps(db, redis);
type Api = Awaited<ReturnType<typeof buildApi>>;

async function getPage(api: Api, url: string) {
  const response = await api.inject({ method: 'GET', url });
  expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
  return { body: response.json() as PageBody, headers: response.headers };
}

/** Follows `direction` links from `url` to the end; returns the pages' ids in the order visited. */
async function walk(api: Api, url: string, direction: 'next' | 'previous'): Promise<{ pages: number[][]; last: PageBody }> {
  const pages: number[][] = [];
  let current: string | null = url;
  let last: PageBody | undefined;
  for (let step = 0; current !== null && step < 50; step += 1) {
    const page = await getPage(api, current);
    pages.push(page.body.results.map((row) => row.id));
    last = page.body;
    current = page.body[direction] && pathOf(page.body[direction]);
  }
  return { pages, last: last! };
}

const base64url = (text: string) => Buffer.from(text).toString('base64url');

describe('cursor pagination', () => {
  it('starts with ?cursor= : the first page, count included first, no previous link', async () => {
    const api = await buildApi();
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 45);
    const page = await getPage(api, `/authors/${id}/books?cursor=`);
    expect(Object.keys(page.body)).toEqual(['count', 'next', 'previous', 'results']);
    expect(page.body.count).toBe(45);
    expect(page.body.previous).toBeNull();
    expect(page.body.results.map((book) => book.id)).toEqual(bookIds.slice(0, 20));
    expect(page.body.next).toMatch(new RegExp(`^http://localhost:80/authors/${id}/books\\?cursor=[A-Za-z0-9_-]+$`));
    expect(page.headers['x-count-source']).toBe('column');
  });

  it('walks every row exactly once forward, then exactly once backward from the end', async () => {
    const api = await buildApi();
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 53);
    const forward = await walk(api, `/authors/${id}/books?cursor=&page_size=7`, 'next');
    expect(forward.pages.flat()).toEqual(bookIds);
    expect(forward.pages.map((page) => page.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 4]);

    const backward = await walk(api, pathOf(forward.last.previous!), 'previous');
    expect(backward.pages.reverse().flat()).toEqual(bookIds.slice(0, 49));
    // Backward pages line up with the forward ones, and the first page has no previous link.
    expect(backward.last.previous).toBeNull();
    expect(backward.last.results.map((book) => book.id)).toEqual(bookIds.slice(0, 7));
    // Every link keeps the other parameters.
    expect(forward.last.previous).toContain('page_size=7');
  });

  it('never repeats or skips a surviving row when rows are deleted between pages', async () => {
    const api = await buildApi();
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 30);
    const first = await getPage(api, `/authors/${id}/books?cursor=&page_size=10`);
    // Delete the last row of the first page and the first rows of the next one.
    const removed = [bookIds[9]!, bookIds[10]!, bookIds[11]!];
    await db.pool.query('DELETE FROM book WHERE id = ANY($1::bigint[])', [removed]);
    const rest = await walk(api, pathOf(first.body.next!), 'next');
    expect([...first.body.results.map((book) => book.id), ...rest.pages.flat()]).toEqual(
      bookIds.filter((bookId) => !removed.slice(1).includes(bookId)),
    );
  });

  it('works on /authors and /books as well', async () => {
    const api = await buildApi();
    await authorWithBooks(db.pool, 'Ann', 5);
    const authors = await walk(api, '/authors?cursor=&page_size=2', 'next');
    const { rows: authorRows } = await db.pool.query<{ id: number }>('SELECT id FROM author ORDER BY id');
    expect(authors.pages.flat()).toEqual(authorRows.map((row) => row.id));
    const books = await walk(api, '/books?page_size=50&cursor=', 'next');
    const { rows: bookRows } = await db.pool.query<{ id: number }>('SELECT id FROM book ORDER BY id');
    expect(books.pages.flat()).toEqual(bookRows.map((row) => row.id));
    expect(books.last.count).toBe(bookRows.length);
  });

  it('gives an empty list one empty first page with count 0', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Nobody', 0);
    const page = await getPage(api, `/authors/${id}/books?cursor=`);
    expect(page.body).toEqual({ count: 0, next: null, previous: null, results: [] });
    const missing = await api.inject({ method: 'GET', url: '/authors/987654/books?cursor=' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ detail: 'Not found.' });
  });

  it.each([
    ['not base64', 'abc!'],
    ['junk that decodes to nothing we write', 'zzzz'],
    ['a non-canonical spelling', `${base64url('p=5')}=`],
    ['standard base64 padding', Buffer.from('p=5').toString('base64') + '='],
    ['a position that is not a number', base64url('p=abc')],
    ['a zero position', base64url('p=0')],
    ['a negative position', base64url('p=-1')],
    ['a position past 2^53', base64url('p=99999999999999999')],
    ['an unknown direction', base64url('p=1&r=2')],
    ['an offset (DRF style, not ours)', base64url('o=5&p=1')],
    ['JSON', base64url('{"p":1}')],
    ['a very long string', 'A'.repeat(500)],
  ])('answers a cursor with %s by 404 {"detail": "Invalid cursor"}', async (_name, cursor) => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 3);
    const response = await api.inject({ method: 'GET', url: `/authors/${id}/books?cursor=${encodeURIComponent(cursor)}` });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: 'Invalid cursor' });
  });

  it('reads a hand-made cursor that decodes to a position like one it wrote', async () => {
    const api = await buildApi();
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 10);
    const page = await getPage(api, `/authors/${id}/books?page_size=3&cursor=${base64url(`p=${bookIds[4]}`)}`);
    expect(page.body.results.map((book) => book.id)).toEqual(bookIds.slice(5, 8));
    const reverse = await getPage(api, `/authors/${id}/books?page_size=3&cursor=${base64url(`p=${bookIds[4]}&r=1`)}`);
    expect(reverse.body.results.map((book) => book.id)).toEqual(bookIds.slice(1, 4));
  });
});
