// Writes through the API: the happy paths, then every class of bad input, each answered in DRF's
// shape with a 4xx (never a 500) and writing nothing.
import { describe, expect, it } from 'vitest';
import { useTestDatabase, useTestRedis } from '@tally/test-support';
import { authorWithBooks, useApps } from './helpers.js';

const db = useTestDatabase();
const redis = useTestRedis();
const buildApi = useApps(db, redis);
type Api = Awaited<ReturnType<typeof buildApi>>;

interface TableState {
  authors: string;
  books: string;
}

/** Every row of both tables, to prove a rejected request changed nothing. */
async function tables(): Promise<TableState> {
  const authors = await db.pool.query('SELECT id, name, books_count, books_count_version FROM author ORDER BY id');
  const books = await db.pool.query('SELECT id, author_id, title FROM book ORDER BY id');
  return { authors: JSON.stringify(authors.rows), books: JSON.stringify(books.rows) };
}

interface Attempt {
  method: 'POST' | 'PATCH' | 'DELETE' | 'GET';
  url: string;
  payload?: string;
  headers?: Record<string, string>;
}

async function send(api: Api, attempt: Attempt) {
  const response = await api.inject({
    method: attempt.method,
    url: attempt.url,
    ...(attempt.payload === undefined ? {} : { payload: attempt.payload }),
    headers: { 'content-type': 'application/json', ...attempt.headers },
  });
  return { status: response.statusCode, body: response.body ? (response.json() as unknown) : undefined, headers: response.headers };
}

describe('writes that succeed', () => {
  it('creates an author (trimmed, starting at 0 books) and a book', async () => {
    const api = await buildApi();
    const author = await send(api, { method: 'POST', url: '/authors', payload: JSON.stringify({ name: '  Ursula  ' }) });
    expect(author.status).toBe(201);
    expect(author.body).toMatchObject({ name: 'Ursula', books_count: 0 });
    const authorId = (author.body as { id: number }).id;
    const book = await send(api, { method: 'POST', url: '/books', payload: JSON.stringify({ author_id: String(authorId), title: 'Earthsea' }) });
    expect(book.status).toBe(201);
    expect(Object.keys(book.body as object)).toEqual(['id', 'author_id', 'title', 'created_at']);
    expect(book.body).toMatchObject({ author_id: authorId, title: 'Earthsea' });
  });

  it('PATCH renames an author and never writes books_count, whatever the body says', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 4);
    const before = await db.pool.query('SELECT books_count, books_count_version FROM author WHERE id = $1', [id]);
    const response = await send(api, {
      method: 'PATCH',
      url: `/authors/${id}`,
      payload: JSON.stringify({ name: 'Anne', books_count: 999, books_count_version: 1, id: 77 }),
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id, name: 'Anne', books_count: 4 });
    const after = await db.pool.query('SELECT books_count, books_count_version FROM author WHERE id = $1', [id]);
    expect(after.rows).toEqual(before.rows);
    const empty = await send(api, { method: 'PATCH', url: `/authors/${id}`, payload: '{}' });
    expect(empty.body).toMatchObject({ id, name: 'Anne', books_count: 4 });
  });

  it('PATCH changes a title, DELETE removes books and authors (204, then 404)', async () => {
    const api = await buildApi();
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 2);
    const renamed = await send(api, { method: 'PATCH', url: `/books/${bookIds[0]}/`, payload: JSON.stringify({ title: 'New' }) });
    expect(renamed.body).toMatchObject({ id: bookIds[0], author_id: id, title: 'New' });
    expect((await send(api, { method: 'DELETE', url: `/books/${bookIds[0]}` })).status).toBe(204);
    expect((await send(api, { method: 'DELETE', url: `/books/${bookIds[0]}` })).status).toBe(404);
    const deleted = await send(api, { method: 'DELETE', url: `/authors/${id}` });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    expect((await send(api, { method: 'GET', url: `/books/${bookIds[1]}` })).status).toBe(404);
    expect((await send(api, { method: 'GET', url: `/authors/${id}` })).body).toEqual({ detail: 'Not found.' });
  });

  it('DELETE ignores a body of any media type, as DRF never reads it', async () => {
    const api = await buildApi();
    const { bookIds } = await authorWithBooks(db.pool, 'Ann', 1);
    const response = await send(api, { method: 'DELETE', url: `/books/${bookIds[0]}`, payload: 'x', headers: { 'content-type': 'text/plain' } });
    expect(response.status).toBe(204);
    const malformed = await send(api, { method: 'DELETE', url: `/books/${bookIds[0]}`, payload: '{' });
    expect(malformed.status).toBe(404);
  });
});

const REQUIRED = ['This field is required.'];
const NOT_NULL = ['This field may not be null.'];
const BLANK = ['This field may not be blank.'];
const NOT_STRING = ['Not a valid string.'];

describe('bad input is a 4xx in DRF shape and writes nothing', () => {
  // Bodies for POST /authors.
  const authorCases: Array<[string, string | undefined, number, unknown]> = [
    ['an empty object', '{}', 400, { name: REQUIRED }],
    ['no body at all', undefined, 400, { name: REQUIRED }],
    ['an empty body', '', 400, { name: REQUIRED }],
    ['an empty name', '{"name": ""}', 400, { name: BLANK }],
    ['a whitespace name', '{"name": " \\t\\n\\u3000 "}', 400, { name: BLANK }],
    ['a null name', '{"name": null}', 400, { name: NOT_NULL }],
    ['a boolean name', '{"name": true}', 400, { name: NOT_STRING }],
    ['a list name', '{"name": ["a"]}', 400, { name: NOT_STRING }],
    ['an object name', '{"name": {"a": 1}}', 400, { name: NOT_STRING }],
    ['a name of 201 characters', JSON.stringify({ name: 'é'.repeat(201) }), 400, { name: ['Ensure this field has no more than 200 characters.'] }],
    ['a NUL byte', '{"name": "a\\u0000b"}', 400, { name: ['Null characters are not allowed.'] }],
    ['a lone surrogate', '{"name": "a\\ud800b"}', 400, { name: ['Surrogate characters are not allowed: U+D800.'] }],
    ['a long name with a NUL', JSON.stringify({ name: `${'a'.repeat(300)}\u0000` }), 400, {
      name: ['Ensure this field has no more than 200 characters.', 'Null characters are not allowed.'],
    }],
    ['a list body', '[{"name": "a"}]', 400, { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] }],
    ['a string body', '"a"', 400, { non_field_errors: ['Invalid data. Expected a dictionary, but got str.'] }],
    ['a number body', '42', 400, { non_field_errors: ['Invalid data. Expected a dictionary, but got int.'] }],
    ['a null body', 'null', 400, { non_field_errors: ['No data provided'] }],
    ['malformed JSON', '{"name": ', 400, { detail: expect.stringMatching(/^JSON parse error - /) }],
    ['a prototype-polluting body', '{"__proto__": {"name": "x"}}', 400, { name: REQUIRED }],
  ];

  it.each(authorCases)('POST /authors with %s', async (_name, payload, status, body) => {
    const api = await buildApi();
    const before = await tables();
    const response = await send(api, { method: 'POST', url: '/authors', ...(payload === undefined ? {} : { payload }) });
    expect(response.status).toBe(status);
    expect(response.body).toEqual(body);
    expect(await tables()).toEqual(before);
  });

  it('POST /books with each kind of bad author_id or title', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 1);
    const invalidPk = (shown: string) => ({ author_id: [`Invalid pk "${shown}" - object does not exist.`] });
    const cases: Array<[string, unknown]> = [
      ['{"title": "x"}', { author_id: REQUIRED }],
      ['{}', { author_id: REQUIRED, title: REQUIRED }],
      ['{"author_id": null, "title": "x"}', { author_id: NOT_NULL }],
      ['{"author_id": "", "title": "x"}', { author_id: NOT_NULL }],
      ['{"author_id": "abc", "title": "x"}', { author_id: ['Incorrect type. Expected pk value, received str.'] }],
      ['{"author_id": 1.5, "title": "x"}', { author_id: ['Incorrect type. Expected pk value, received float.'] }],
      ['{"author_id": true, "title": "x"}', { author_id: ['Incorrect type. Expected pk value, received bool.'] }],
      ['{"author_id": [1], "title": "x"}', { author_id: ['Incorrect type. Expected pk value, received list.'] }],
      ['{"author_id": {"id": 1}, "title": "x"}', { author_id: ['Incorrect type. Expected pk value, received dict.'] }],
      ['{"author_id": 0, "title": "x"}', invalidPk('0')],
      ['{"author_id": -1, "title": "x"}', invalidPk('-1')],
      ['{"author_id": 987654321, "title": "x"}', invalidPk('987654321')],
      ['{"author_id": "9223372036854775808", "title": "x"}', invalidPk('9223372036854775808')],
      ['{"author_id": 9223372036854775807, "title": "x"}', invalidPk('9223372036854775808')],
      ['{"author_id": 1e400, "title": "x"}', { author_id: ['Incorrect type. Expected pk value, received float.'] }],
      [`{"author_id": ${id}, "title": ""}`, { title: BLANK }],
      [`{"author_id": ${id}, "title": "${'x'.repeat(501)}"}`, { title: ['Ensure this field has no more than 500 characters.'] }],
      [`{"author_id": ${id}, "title": "\\u0000"}`, { title: ['Null characters are not allowed.'] }],
      [`{"author_id": ${id}, "title": 12}`, 'created'], // DRF's CharField accepts numbers as text
    ];
    for (const [payload, expected] of cases) {
      const before = await tables();
      const response = await send(api, { method: 'POST', url: '/books', payload });
      if (expected === 'created') {
        expect(response.status, payload).toBe(201);
        expect(response.body, payload).toMatchObject({ title: '12' });
        continue;
      }
      expect(response.status, payload).toBe(400);
      expect(response.body, payload).toEqual(expected);
      expect(await tables(), payload).toEqual(before);
    }
  });

  it('PATCH /books/:id to an unknown author is a 400 and leaves the book where it was', async () => {
    const api = await buildApi();
    const { id, bookIds } = await authorWithBooks(db.pool, 'Ann', 1);
    const before = await tables();
    const response = await send(api, { method: 'PATCH', url: `/books/${bookIds[0]}`, payload: '{"author_id": 987654321, "title": "moved"}' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ author_id: ['Invalid pk "987654321" - object does not exist.'] });
    expect(await tables()).toEqual(before);
    expect((await send(api, { method: 'GET', url: `/books/${bookIds[0]}` })).body).toMatchObject({ author_id: id });
  });

  it('a book written for an author being deleted at that moment is a 400, not a 500', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Doomed', 1);
    const deleting = await db.pool.connect();
    try {
      await deleting.query('BEGIN');
      await deleting.query('DELETE FROM author WHERE id = $1', [id]);
      const posting = send(api, { method: 'POST', url: '/books', payload: JSON.stringify({ author_id: id, title: 'late' }) });
      // Wait until the insert's foreign-key check queues behind the uncommitted delete.
      let waiting = false;
      for (let attempt = 0; attempt < 100 && !waiting; attempt += 1) {
        const { rows } = await db.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tally-api' AND wait_event_type = 'Lock'`,
        );
        waiting = rows.length > 0;
        if (!waiting) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(waiting).toBe(true);
      await deleting.query('COMMIT');
      const response = await posting;
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ author_id: [`Invalid pk "${id}" - object does not exist.`] });
    } finally {
      deleting.release();
    }
    const { rows } = await db.pool.query('SELECT 1 FROM book WHERE author_id = $1', [id]);
    expect(rows).toHaveLength(0);
  });

  it.each([
    ['text/plain', 'name=x', 415, { detail: 'Unsupported media type "text/plain" in request.' }],
    ['application/x-www-form-urlencoded', 'name=x', 415, { detail: 'Unsupported media type "application/x-www-form-urlencoded" in request.' }],
    ['application/xml', '<name>x</name>', 415, { detail: 'Unsupported media type "application/xml" in request.' }],
    ['application/json; charset=utf-8', '{"name": "ok"}', 201, expect.objectContaining({ name: 'ok' })],
  ])('answers Content-Type %s with %i', async (contentType, payload, status, body) => {
    const api = await buildApi();
    const before = await tables();
    const response = await send(api, { method: 'POST', url: '/authors', payload, headers: { 'content-type': contentType } });
    expect(response.status).toBe(status);
    expect(response.body).toEqual(body);
    if (status !== 201) expect(await tables()).toEqual(before);
  });

  it('answers a body without Content-Type with 415, and a huge body with 413', async () => {
    const api = await buildApi();
    const before = await tables();
    const untyped = await api.inject({ method: 'POST', url: '/authors', payload: '{"name": "x"}', headers: { 'content-type': undefined } });
    expect(untyped.statusCode).toBe(415);
    expect(untyped.json()).toEqual({ detail: 'Unsupported media type "" in request.' });
    const huge = await send(api, { method: 'POST', url: '/authors', payload: JSON.stringify({ name: 'x'.repeat(100_000) }) });
    expect(huge.status).toBe(413);
    expect(huge.body).toEqual({ detail: expect.stringContaining('too large') });
    expect(await tables()).toEqual(before);
  });

  it.each(['abc', '0', '-1', '1.5', '1e3', '99999999999999999999999', '9223372036854775808', '%00', '%E0', '%ZZ', '9'.repeat(500)])(
    'answers id %s in a path with 404 "Not found." on every method',
    async (id) => {
      const api = await buildApi();
      const before = await tables();
      for (const url of [`/authors/${id}`, `/books/${id}`, `/authors/${id}/books`]) {
        for (const method of url.endsWith('/books') ? (['GET'] as const) : (['GET', 'PATCH', 'DELETE'] as const)) {
          const response = await send(api, { method, url, ...(method === 'PATCH' ? { payload: '{"name": "x", "title": "x"}' } : {}) });
          expect(response.status, `${method} ${url}`).toBe(404);
          expect(response.body, `${method} ${url}`).toEqual({ detail: 'Not found.' });
        }
      }
      expect(await tables()).toEqual(before);
    },
  );

  it('answers a method a path does not have with 405 and an Allow header', async () => {
    const api = await buildApi();
    const put = await send(api, { method: 'PUT' as 'POST', url: '/authors/1', payload: '{"name": "x"}' });
    expect(put.status).toBe(405);
    expect(put.body).toEqual({ detail: 'Method "PUT" not allowed.' });
    expect(put.headers.allow).toBe('GET, PATCH, DELETE, HEAD, OPTIONS');
    const deleteList = await send(api, { method: 'DELETE', url: '/books' });
    expect(deleteList.status).toBe(405);
    expect(deleteList.body).toEqual({ detail: 'Method "DELETE" not allowed.' });
    const postNested = await send(api, { method: 'POST', url: '/authors/1/books', payload: '{}' });
    expect(postNested.status).toBe(405);
    expect(postNested.headers.allow).toBe('GET, HEAD, OPTIONS');
    const options = await api.inject({ method: 'OPTIONS', url: '/authors' });
    expect(options.statusCode).toBe(200);
    expect(options.headers.allow).toBe('GET, POST, HEAD, OPTIONS');
    const unknown = await send(api, { method: 'GET', url: '/nothing/here' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ detail: 'Not found.' });
  });

  it('survives a flood of bad requests: no 500, nothing written, still serving', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 3);
    const before = await tables();
    const bad: Attempt[] = [
      { method: 'POST', url: '/authors', payload: '{"name": "\\u0000"}' },
      { method: 'POST', url: '/books', payload: `{"author_id": ${id}, "title": ["x"]}` },
      { method: 'POST', url: '/books', payload: '{"author_id": 987654321, "title": "x"}' },
      { method: 'PATCH', url: `/authors/${id}`, payload: '{"name": ' },
      { method: 'GET', url: `/authors/${id}/books?page=2abc` },
      { method: 'GET', url: `/authors/${id}/books?cursor=%%%` },
      { method: 'POST', url: '/authors', payload: 'x', headers: { 'content-type': 'text/csv' } },
      { method: 'DELETE', url: '/authors/99999999999999999999' },
    ];
    const responses = await Promise.all(Array.from({ length: 240 }, (_, index) => send(api, bad[index % bad.length]!)));
    for (const response of responses) {
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    }
    expect(await tables()).toEqual(before);
    expect((await send(api, { method: 'GET', url: `/authors/${id}/books` })).status).toBe(200);
  });
});
