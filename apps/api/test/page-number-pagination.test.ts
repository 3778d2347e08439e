// DRF PageNumberPagination as a client observes it, case by case (rest_framework/pagination.py and
// tests/test_pagination.py): body and key order, page parsing, page_size, links, empty lists.
import { describe, expect, it } from 'vitest';
import { useTestDatabase, useTestRedis } from '@tally/test-support';
import { authorWithBooks, pathOf, useApps, type PageBody } from './helpers.js';

const db = useTestDatabase();
const redis = useTestRedis();
const buildApi = useApps(db, redis);

async function getPage(api: Awaited<ReturnType<typeof buildApi>>, url: string, headers: Record<string, string> = {}) {
  const response = await api.inject({ method: 'GET', url, headers });
  return { status: response.statusCode, body: response.json() as PageBody, raw: response.body, headers: response.headers };
}

describe('page-number pagination of an author\'s books', () => {
  it('answers count, next, previous, results in that order, 20 per page by default', async () => {
    const api = await buildApi();
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 45);
    const page = await getPage(api, `/authors/${id}/books`);
    expect(page.status).toBe(200);
    expect(Object.keys(page.body)).toEqual(['count', 'next', 'previous', 'results']);
    expect(page.raw.startsWith('{"count":45,')).toBe(true);
    expect(page.body.results.map((book) => book.id)).toEqual(bookIds.slice(0, 20));
    expect(page.body.next).toBe(`http://localhost:80/authors/${id}/books?page=2`);
    expect(page.body.previous).toBeNull();
    expect(Object.keys(page.body.results[0]!)).toEqual(['id', 'author_id', 'title', 'created_at']);
  });

  it('links the second page back to a URL without any page parameter', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 45);
    const page = await getPage(api, `/authors/${id}/books?page=2`);
    expect(page.body.previous).toBe(`http://localhost:80/authors/${id}/books`);
    expect(page.body.next).toBe(`http://localhost:80/authors/${id}/books?page=3`);
    const third = await getPage(api, `/authors/${id}/books?page=3`);
    expect(third.body.previous).toBe(`http://localhost:80/authors/${id}/books?page=2`);
    expect(third.body.next).toBeNull();
    expect(third.body.results).toHaveLength(5);
  });

  it('walks every book exactly once through next links, and back through previous links', async () => {
    const api = await buildApi();
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 53);
    const seen: number[] = [];
    let url: string | null = `/authors/${id}/books?page_size=7`;
    let last: PageBody | undefined;
    for (let step = 0; url !== null && step < 20; step += 1) {
      const page = await getPage(api, url);
      expect(page.status).toBe(200);
      expect(page.body.count).toBe(53);
      seen.push(...page.body.results.map((book) => book.id));
      last = page.body;
      url = page.body.next && pathOf(page.body.next);
    }
    expect(seen).toEqual(bookIds);

    const backwards: number[][] = [];
    url = last!.previous && pathOf(last!.previous);
    backwards.push(last!.results.map((book) => book.id));
    for (let step = 0; url !== null && step < 20; step += 1) {
      const page = await getPage(api, url);
      backwards.unshift(page.body.results.map((book) => book.id));
      url = page.body.previous && pathOf(page.body.previous);
    }
    expect(backwards.flat()).toEqual(bookIds);
  });

  it('serves page=last from the count, and an empty page= as page 1', async () => {
    const api = await buildApi();
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 45);
    const last = await getPage(api, `/authors/${id}/books?page=last`);
    expect(last.status).toBe(200);
    expect(last.body.results.map((book) => book.id)).toEqual(bookIds.slice(40));
    expect(last.body.previous).toBe(`http://localhost:80/authors/${id}/books?page=2`);
    expect(last.body.next).toBeNull();
    const empty = await getPage(api, `/authors/${id}/books?page=`);
    expect(empty.status).toBe(200);
    expect(empty.body.results.map((book) => book.id)).toEqual(bookIds.slice(0, 20));
  });

  it.each([
    ['0'],
    ['-1'],
    ['2abc'],
    ['1.5'],
    ['2.0'],
    ['abc'],
    ['1e1'],
    ['0x2'],
    ['99999999999999999999999999'],
    ['4'], // past the end: 45 books make 3 pages
    ['LAST'],
  ])('answers page=%s with 404 {"detail": "Invalid page."}', async (page) => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 45);
    const response = await api.inject({ method: 'GET', url: `/authors/${id}/books?page=${encodeURIComponent(page)}` });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ detail: 'Invalid page.' });
  });

  it('reads page numbers as Python int() does: padding, a sign, leading zeros; the last value wins', async () => {
    const api = await buildApi();
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 45);
    for (const page of ['%202%20', '%2B2', '02', '1&page=2']) {
      const response = await getPage(api, `/authors/${id}/books?page=${page}`);
      expect(response.status, page).toBe(200);
      expect(response.body.results[0]!.id, page).toBe(bookIds[20]);
    }
  });

  it.each([
    ['5', 5],
    ['100', 100],
    ['1000', 100],
    ['99999999999999999999999', 100],
    ['0', 20],
    ['-3', 20],
    ['abc', 20],
    ['2.5', 20],
    ['', 20],
  ])('reads page_size=%s as %i rows', async (pageSize, rows) => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 150);
    const page = await getPage(api, `/authors/${id}/books?page_size=${pageSize}`);
    expect(page.status).toBe(200);
    expect(page.body.results).toHaveLength(rows);
    // The link keeps page_size exactly as sent, as DRF does.
    expect(page.body.next).toBe(`http://localhost:80/authors/${id}/books?page=2&page_size=${pageSize}`);
  });

  it('keeps other query parameters in links, sorted and encoded as DRF does (blank and repeated ones too)', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 45);
    const page = await getPage(api, `/authors/${id}/books?zeta=1&page=2&alpha=x%20y&filter=&alpha=%C3%A9%2Fz`);
    expect(page.body.next).toBe(`http://localhost:80/authors/${id}/books?alpha=x+y&alpha=%C3%A9%2Fz&filter=&page=3&zeta=1`);
    expect(page.body.previous).toBe(`http://localhost:80/authors/${id}/books?alpha=x+y&alpha=%C3%A9%2Fz&filter=&zeta=1`);
  });

  it('re-encodes odd parameters the way Python does (bad escapes kept, + as space, bad UTF-8 replaced)', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 45);
    const page = await getPage(api, `/authors/${id}/books?page=2&q=%zz&plus=a+b&bytes=%FF&flag&~ok=*`);
    expect(page.status).toBe(200);
    expect(page.body.next).toBe(
      `http://localhost:80/authors/${id}/books?bytes=%EF%BF%BD&flag=&page=3&plus=a+b&q=%25zz&~ok=%2A`,
    );
  });

  it('builds links from the Host header, and from X-Forwarded-* only when TRUST_PROXY is set', async () => {
    const { id } = await authorWithBooks(db.pool, 'Ann', 45);
    const forwarded = { host: 'api.internal:3000', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'books.example.com' };
    const direct = await buildApi();
    const page = await getPage(direct, `/authors/${id}/books`, forwarded);
    expect(page.body.next).toBe(`http://api.internal:3000/authors/${id}/books?page=2`);

    const proxied = await buildApi({ TRUST_PROXY: 'true' });
    const behindProxy = await getPage(proxied, `/authors/${id}/books`, forwarded);
    expect(behindProxy.body.next).toBe(`https://books.example.com/authors/${id}/books?page=2`);
  });

  it('refuses a Host header that is not a host name, instead of echoing it into links', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 3);
    const response = await api.inject({ method: 'GET', url: `/authors/${id}/books`, headers: { host: 'evil.com/"<x>' } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ detail: 'Invalid Host header.' });
  });

  it('gives an empty list one empty page 1 with count 0; page 2 of it is invalid', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Nobody', 0);
    const page = await getPage(api, `/authors/${id}/books`);
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ count: 0, next: null, previous: null, results: [] });
    expect((await getPage(api, `/authors/${id}/books?page=last`)).body.count).toBe(0);
    const second = await api.inject({ method: 'GET', url: `/authors/${id}/books?page=2` });
    expect(second.statusCode).toBe(404);
    expect(second.json()).toEqual({ detail: 'Invalid page.' });
  });

  it('answers 404 "Not found." for an author that does not exist or an id that is not one', async () => {
    const api = await buildApi();
    for (const url of ['/authors/987654/books', '/authors/abc/books', '/authors/0/books', '/books?author=987654', '/books?author=x1']) {
      const response = await api.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.json(), url).toEqual({ detail: 'Not found.' });
    }
  });

  it('accepts the trailing slash DRF routers use', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 25);
    const page = await getPage(api, `/authors/${id}/books/?page=2`);
    expect(page.status).toBe(200);
    expect(page.body.previous).toBe(`http://localhost:80/authors/${id}/books/`);
  });
});

describe('the other paginated lists', () => {
  it('GET /books?author=:id is the same list as GET /authors/:id/books', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 30);
    await authorWithBooks(db.pool, 'Other', 10);
    const viaFilter = await getPage(api, `/books?author=${id}&page=2`);
    const viaAuthor = await getPage(api, `/authors/${id}/books?page=2`);
    expect(viaFilter.body.count).toBe(30);
    expect(viaFilter.body.results).toEqual(viaAuthor.body.results);
    expect(viaFilter.body.previous).toBe(`http://localhost:80/books?author=${id}`);
    expect(viaFilter.headers['x-count-source']).toBe(viaAuthor.headers['x-count-source']);
  });

  it('GET /books lists every book in id order with the total of the column counts', async () => {
    const api = await buildApi();
    const before = await getPage(api, '/books');
    const a = await authorWithBooks(db.pool, 'Ann', 15);
    const b = await authorWithBooks(db.pool, 'Bob', 10);
    const ids: number[] = [];
    let url: string | null = '/books?page_size=100&author=';
    for (let step = 0; url !== null && step < 50; step += 1) {
      const page = await getPage(api, url);
      expect(page.body.count).toBe(before.body.count + 25);
      expect(page.headers['x-count-source']).toBe('column');
      ids.push(...page.body.results.map((book) => book.id));
      url = page.body.next && pathOf(page.body.next);
    }
    const { rows } = await db.pool.query<{ id: number }>('SELECT id FROM book ORDER BY id');
    expect(ids).toEqual(rows.map((row) => row.id));
    expect(ids).toEqual(expect.arrayContaining([...a.bookIds, ...b.bookIds]));
  });

  it('GET /authors pages the authors, each with its books_count', async () => {
    const api = await buildApi();
    const created = await authorWithBooks(db.pool, 'Counted', 7);
    const first = await getPage(api, '/authors?page_size=1');
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*) AS n FROM author');
    expect(first.body.count).toBe(rows[0]!.n);
    expect(first.headers['x-count-source']).toBe('count');
    const page = await getPage(api, `/authors?page=last&page_size=1`);
    const author = page.body.results[0] as unknown as Record<string, unknown>;
    expect(Object.keys(author)).toEqual(['id', 'name', 'books_count', 'created_at']);
    expect(author).toMatchObject({ id: created.id, name: 'Counted', books_count: 7 });
  });
});
