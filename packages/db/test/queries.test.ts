import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../test/support/database.js';
import {
  authorExists,
  createAuthor,
  deleteAuthor,
  getAuthor,
  listAuthorsByKeyset,
  updateAuthor,
} from '../src/authors.js';
import { createBook, deleteBook, getBook, listBooksByKeyset, updateBook } from '../src/books.js';
import type { BookRow } from '../src/rows.js';
import { listAuthorBooksByKeyset, listAuthorBooksPage } from '../src/author-books.js';
import { countBooks, readColumnCount } from '../src/counts.js';
import { PgErrorCode } from '../src/errors.js';
import { addBooks } from './helpers.js';

const db = useTestDatabase();

describe('the query module the API and worker share', () => {
  it('creates, reads, renames and deletes authors, with counts as numbers', async () => {
    const author = await createAuthor(db.pool, { name: 'Ursula' });
    expect(author).toMatchObject({ name: 'Ursula', books_count: 0 });
    expect(typeof author.id).toBe('number');
    expect(await updateAuthor(db.pool, author.id, { name: 'Ursula K.' })).toMatchObject({ name: 'Ursula K.' });
    expect(await updateAuthor(db.pool, 987_654_321, { name: 'nobody' })).toBeUndefined();
    expect(await authorExists(db.pool, author.id)).toBe(true);
    expect(await deleteAuthor(db.pool, author.id)).toBe(true);
    expect(await deleteAuthor(db.pool, author.id)).toBe(false);
    expect(await getAuthor(db.pool, author.id)).toBeUndefined();
  });

  it('creates, moves and deletes books; the counts follow', async () => {
    const a = await createAuthor(db.pool, { name: 'A' });
    const b = await createAuthor(db.pool, { name: 'B' });
    const book = await createBook(db.pool, { authorId: a.id, title: 'First' });
    expect(await readColumnCount(db.pool, a.id)).toMatchObject({ booksCount: 1 });
    expect(await updateBook(db.pool, book.id, { authorId: b.id })).toMatchObject({ author_id: b.id, title: 'First' });
    expect(await readColumnCount(db.pool, a.id)).toMatchObject({ booksCount: 0 });
    expect(await readColumnCount(db.pool, b.id)).toMatchObject({ booksCount: 1 });
    expect(await updateBook(db.pool, book.id, { title: 'Renamed' })).toMatchObject({ author_id: b.id, title: 'Renamed' });
    expect(await getBook(db.pool, book.id)).toMatchObject({ title: 'Renamed' });
    expect(await deleteBook(db.pool, book.id)).toBe(true);
    expect(await countBooks(db.pool, b.id)).toBe(0);
    expect(await readColumnCount(db.pool, 123_456_789)).toBeUndefined();
  });

  it('rejects a book for a missing author with a foreign-key violation and writes nothing', async () => {
    await expect(createBook(db.pool, { authorId: 999_999, title: 'Orphan' })).rejects.toMatchObject({
      code: PgErrorCode.foreignKeyViolation,
    });
  });

  it('offset pages and keyset pages walk the same rows in id order, both ways', async () => {
    const author = await createAuthor(db.pool, { name: 'Prolific' });
    await addBooks(db.pool, author.id, 25);
    const all = (await listAuthorBooksPage(db.pool, { authorId: author.id, limit: 100, offset: 0 })).rows;
    expect(all).toHaveLength(25);
    expect(all.map((row) => row.id)).toEqual([...all.map((row) => row.id)].sort((x, y) => x - y));

    const forward: number[] = [];
    let from: number | null = null;
    for (let guard = 0; guard < 10; guard += 1) {
      const page: BookRow[] = (await listAuthorBooksByKeyset(db.pool, { authorId: author.id, from, limit: 10, direction: 'forward' })).rows;
      forward.push(...page.map((row) => row.id));
      if (page.length < 10) break;
      from = page.at(-1)!.id;
    }
    expect(forward).toEqual(all.map((row) => row.id));

    const backward = (await listAuthorBooksByKeyset(db.pool, { authorId: author.id, from: all[10]!.id, limit: 5, direction: 'backward' })).rows;
    expect(backward.map((row) => row.id)).toEqual(all.slice(5, 10).map((row) => row.id).reverse());
    const offsetPage = (await listAuthorBooksPage(db.pool, { authorId: author.id, limit: 10, offset: 20 })).rows;
    expect(offsetPage.map((row) => row.id)).toEqual(all.slice(20).map((row) => row.id));
  });

  it('pooled connections plan prepared statements generically, so a prolific author pages by index', async () => {
    const { rows } = await db.pool.query('SHOW plan_cache_mode');
    expect(rows[0].plan_cache_mode).toBe('force_generic_plan');
    const author = await createAuthor(db.pool, { name: 'Clustered' });
    await addBooks(db.pool, author.id, 3000);
    await db.pool.query('ANALYZE book');
    const client = await db.pool.connect();
    try {
      await client.query(`PREPARE page_by_author(bigint) AS SELECT id FROM book WHERE author_id = $1 ORDER BY id LIMIT 21`);
      const plan = await client.query(`EXPLAIN EXECUTE page_by_author(${Number(author.id)})`);
      expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toContain('book_author_id_id_idx');
      await client.query('DEALLOCATE page_by_author');
    } finally {
      client.release();
    }
  });

  it('reads an author\'s page and column count in one query, and tells a missing author from an empty one', async () => {
    const author = await createAuthor(db.pool, { name: 'Paged' });
    const empty = await createAuthor(db.pool, { name: 'Empty' });
    await addBooks(db.pool, author.id, 12);
    const page = await listAuthorBooksPage(db.pool, { authorId: author.id, limit: 5, offset: 5 });
    expect(page.author).toMatchObject({ booksCount: 12 });
    const ids = (await db.pool.query<{ id: number }>('SELECT id FROM book WHERE author_id = $1 ORDER BY id', [author.id])).rows.map((row) => row.id);
    expect(page.rows.map((row) => row.id)).toEqual(ids.slice(5, 10));
    expect(await listAuthorBooksPage(db.pool, { authorId: author.id, limit: 5, offset: 50 })).toEqual({
      author: expect.objectContaining({ booksCount: 12 }),
      rows: [],
    });
    expect(await listAuthorBooksPage(db.pool, { authorId: empty.id, limit: 5, offset: 0 })).toMatchObject({ author: { booksCount: 0 }, rows: [] });
    expect(await listAuthorBooksPage(db.pool, { authorId: 987_654_321, limit: 5, offset: 0 })).toEqual({ author: undefined, rows: [] });
    const backward = await listAuthorBooksByKeyset(db.pool, { authorId: author.id, from: ids[6]!, limit: 3, direction: 'backward' });
    expect(backward.rows.map((row) => row.id)).toEqual([ids[5], ids[4], ids[3]]);
    const forward = await listAuthorBooksByKeyset(db.pool, { authorId: author.id, from: null, limit: 3, direction: 'forward' });
    expect(forward.rows.map((row) => row.id)).toEqual(ids.slice(0, 3));
  });

  it('keyset pages take positions past 2^31 (bigint ids), in both directions', async () => {
    const author = await createAuthor(db.pool, { name: 'Big ids' });
    const big = 3_000_000_000;
    await db.pool.query(`INSERT INTO book (id, author_id, title) VALUES ($1, $2, 'a'), ($3, $2, 'b')`, [big, author.id, big + 1]);
    const after = await listAuthorBooksByKeyset(db.pool, { authorId: author.id, from: big, limit: 5, direction: 'forward' });
    expect(after.rows.map((row) => row.id)).toEqual([big + 1]);
    const before = await listAuthorBooksByKeyset(db.pool, { authorId: author.id, from: big + 1, limit: 5, direction: 'backward' });
    expect(before.rows.map((row) => row.id)).toEqual([big]);
    expect((await listBooksByKeyset(db.pool, { from: big, limit: 5, direction: 'forward' })).map((row) => row.id)).toEqual([big + 1]);
    expect(await listAuthorsByKeyset(db.pool, { from: big, limit: 5, direction: 'forward' })).toEqual([]);
    await db.pool.query('DELETE FROM book WHERE id >= $1', [big]);
  });

  it('lists authors by keyset from either end', async () => {
    const first = await listAuthorsByKeyset(db.pool, { from: null, limit: 2, direction: 'forward' });
    const last = await listAuthorsByKeyset(db.pool, { from: null, limit: 1, direction: 'backward' });
    expect(first.length).toBeGreaterThan(0);
    expect(last[0]!.id).toBeGreaterThanOrEqual(first.at(-1)!.id);
  });
});
