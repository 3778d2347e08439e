// Author reads and writes. books_count and its version are never written from here: the database
// guard keeps them, so a stale object saved whole cannot overwrite a count.
import type { Queryable } from './pool.js';
import { keysetRange } from './keyset.js';
import type { AuthorRow } from './rows.js';

const AUTHOR_COLUMNS = 'id, name, books_count, books_count_version, created_at';

export async function createAuthor(db: Queryable, input: { name: string }): Promise<AuthorRow> {
  const { rows } = await db.query<AuthorRow>(
    `INSERT INTO author (name) VALUES ($1) RETURNING ${AUTHOR_COLUMNS}`,
    [input.name],
  );
  return rows[0]!;
}

export async function getAuthor(db: Queryable, id: number): Promise<AuthorRow | undefined> {
  const { rows } = await db.query<AuthorRow>({
    name: 'tally_get_author',
    text: `SELECT ${AUTHOR_COLUMNS} FROM author WHERE id = $1`,
    values: [id],
  });
  return rows[0];
}

export async function authorExists(db: Queryable, id: number): Promise<boolean> {
  const { rows } = await db.query({
    name: 'tally_author_exists',
    text: 'SELECT 1 FROM author WHERE id = $1',
    values: [id],
  });
  return rows.length > 0;
}

/** Renames an author; returns undefined when it does not exist. */
export async function updateAuthor(db: Queryable, id: number, patch: { name?: string }): Promise<AuthorRow | undefined> {
  const { rows } = await db.query<AuthorRow>(
    `UPDATE author SET name = coalesce($2, name) WHERE id = $1 RETURNING ${AUTHOR_COLUMNS}`,
    [id, patch.name ?? null],
  );
  return rows[0];
}

/** Deletes an author and, by cascade, its books; returns whether it existed. */
export async function deleteAuthor(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM author WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/** Up to `limit` authors in id order, skipping `offset`. */
export async function listAuthorsPage(db: Queryable, page: { limit: number; offset: number }): Promise<AuthorRow[]> {
  const { rows } = await db.query<AuthorRow>({
    name: 'tally_list_authors_page',
    text: `SELECT ${AUTHOR_COLUMNS} FROM author ORDER BY id LIMIT $1 OFFSET $2`,
    values: [page.limit, page.offset],
  });
  return rows;
}

/**
 * Up to `limit` authors after (forward, ascending) or before (backward, descending) the id
 * `from`; null starts at the respective end. Costs the same at any depth.
 */
export async function listAuthorsByKeyset(
  db: Queryable,
  page: { from: number | null; limit: number; direction: 'forward' | 'backward' },
): Promise<AuthorRow[]> {
  const { rows } = await db.query<AuthorRow>({
    name: `tally_list_authors_${page.direction}`,
    text: `SELECT ${AUTHOR_COLUMNS} FROM author WHERE ${keysetRange('$1', page.direction)} LIMIT $2`,
    values: [page.from, page.limit],
  });
  return rows;
}

/** Number of authors (small table: COUNT is cheap here and always exact). */
export async function countAuthors(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>({ name: 'tally_count_authors', text: 'SELECT count(*) AS n FROM author' });
  return rows[0]!.n;
}
