// Count lookups for the resolver and the maintenance calls that backfill, reconcile and repair use.
// Setting a count goes through tally.refresh_books_counts(), the one documented path.
import type { Queryable } from './pool.js';
import type { ColumnCount } from './rows.js';

/** The author's books_count column and its version; undefined when the author does not exist. */
export async function readColumnCount(db: Queryable, authorId: number): Promise<ColumnCount | undefined> {
  const { rows } = await db.query<{ books_count: number | null; books_count_version: number }>({
    name: 'tally_read_column_count',
    text: 'SELECT books_count, books_count_version FROM author WHERE id = $1',
    values: [authorId],
  });
  const row = rows[0];
  return row && { booksCount: row.books_count, version: row.books_count_version };
}

/** The exact number of an author's books: COUNT(*), the slow path the column exists to avoid. */
export async function countBooks(db: Queryable, authorId: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>({
    name: 'tally_count_books',
    text: 'SELECT count(*) AS n FROM book WHERE author_id = $1',
    values: [authorId],
  });
  return rows[0]!.n;
}

/** The exact number of all books (COUNT over the whole table). */
export async function countAllBooks(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>({ name: 'tally_count_all_books', text: 'SELECT count(*) AS n FROM book' });
  return rows[0]!.n;
}

export interface RefreshedCount {
  authorId: number;
  /** The column before the refresh (null: it was not computed). */
  previousCount: number | null;
  booksCount: number;
  version: number;
  /** Whether the column differed and was rewritten (with a new version and an outbox row). */
  changed: boolean;
}

/**
 * Sets each author's books_count to its exact COUNT, safely while writes continue, through
 * tally.refresh_books_counts(). Must run in READ COMMITTED (the default); missing authors are
 * left out of the result.
 */
export async function refreshBooksCounts(db: Queryable, authorIds: readonly number[]): Promise<RefreshedCount[]> {
  if (authorIds.length === 0) return [];
  const { rows } = await db.query<{
    author_id: number;
    previous_count: number | null;
    books_count: number;
    books_count_version: number;
    changed: boolean;
  }>('SELECT * FROM tally.refresh_books_counts($1::bigint[])', [authorIds]);
  return rows.map((row) => ({
    authorId: row.author_id,
    previousCount: row.previous_count,
    booksCount: row.books_count,
    version: row.books_count_version,
    changed: row.changed,
  }));
}

/** Marks counts as not computed (NULL); returns how many changed. For restores and legacy seeds. */
export async function forgetBooksCounts(db: Queryable, authorIds: readonly number[]): Promise<number> {
  if (authorIds.length === 0) return 0;
  const { rows } = await db.query<{ n: number }>('SELECT tally.forget_books_counts($1::bigint[]) AS n', [authorIds]);
  return rows[0]!.n;
}

/** Ids of authors whose count is not computed yet, ascending, after `afterId`. */
export async function authorsWithUnknownCount(db: Queryable, page: { afterId: number; limit: number }): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>({
    name: 'tally_authors_with_unknown_count',
    text: 'SELECT id FROM author WHERE books_count IS NULL AND id > $1 ORDER BY id LIMIT $2',
    values: [page.afterId, page.limit],
  });
  return rows.map((row) => row.id);
}

export async function countAuthorsWithUnknownCount(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM author WHERE books_count IS NULL');
  return rows[0]!.n;
}

export interface CountComparison {
  authorId: number;
  /** The column (null: not computed). */
  booksCount: number | null;
  version: number;
  /** COUNT(*) of the author's books, read in the same snapshot as the column. */
  actualCount: number;
}

/**
 * Column and COUNT side by side for a chunk of authors in id order, read in one statement (one
 * snapshot), so a difference means drift, not a race with a writer.
 */
export async function compareCounts(db: Queryable, page: { afterId: number; limit: number }): Promise<CountComparison[]> {
  const { rows } = await db.query<{ id: number; books_count: number | null; books_count_version: number; actual: number }>({
    name: 'tally_compare_counts',
    text: `SELECT a.id, a.books_count, a.books_count_version,
                  (SELECT count(*) FROM book b WHERE b.author_id = a.id) AS actual
             FROM author a WHERE a.id > $1 ORDER BY a.id LIMIT $2`,
    values: [page.afterId, page.limit],
  });
  return rows.map((row) => ({
    authorId: row.id,
    booksCount: row.books_count,
    version: row.books_count_version,
    actualCount: row.actual,
  }));
}

/** Column counts and versions for a chunk of authors in id order (no COUNT): for re-mirroring. */
export async function readColumnCounts(
  db: Queryable,
  page: { afterId: number; limit: number },
): Promise<Array<{ authorId: number } & ColumnCount>> {
  const { rows } = await db.query<{ id: number; books_count: number | null; books_count_version: number }>({
    name: 'tally_read_column_counts',
    text: 'SELECT id, books_count, books_count_version FROM author WHERE id > $1 ORDER BY id LIMIT $2',
    values: [page.afterId, page.limit],
  });
  return rows.map((row) => ({ authorId: row.id, booksCount: row.books_count, version: row.books_count_version }));
}
