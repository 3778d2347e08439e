// Book reads and writes. Counting happens in the database triggers, never here.
import type { Queryable } from './pool.js';
import { keysetRange } from './keyset.js';
import type { BookRow } from './rows.js';

const BOOK_COLUMNS = 'id, author_id, title, created_at';

export async function createBook(db: Queryable, input: { authorId: number; title: string }): Promise<BookRow> {
  const { rows } = await db.query<BookRow>(
    `INSERT INTO book (author_id, title) VALUES ($1, $2) RETURNING ${BOOK_COLUMNS}`,
    [input.authorId, input.title],
  );
  return rows[0]!;
}

export async function getBook(db: Queryable, id: number): Promise<BookRow | undefined> {
  const { rows } = await db.query<BookRow>({
    name: 'tally_get_book',
    text: `SELECT ${BOOK_COLUMNS} FROM book WHERE id = $1`,
    values: [id],
  });
  return rows[0];
}

/** Changes a book's title and/or author (a move); returns undefined when it does not exist. */
export async function updateBook(
  db: Queryable,
  id: number,
  patch: { title?: string; authorId?: number },
): Promise<BookRow | undefined> {
  const { rows } = await db.query<BookRow>(
    `UPDATE book SET title = coalesce($2, title), author_id = coalesce($3, author_id)
      WHERE id = $1 RETURNING ${BOOK_COLUMNS}`,
    [id, patch.title ?? null, patch.authorId ?? null],
  );
  return rows[0];
}

export async function deleteBook(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM book WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/**
 * Up to `limit` of all books in id order, skipping `offset`. One author's books come with the
 * author's count from listAuthorBooksPage (author-books.ts).
 */
export async function listBooksPage(db: Queryable, page: { limit: number; offset: number }): Promise<BookRow[]> {
  const { rows } = await db.query<BookRow>({
    name: 'tally_list_all_books_page',
    text: `SELECT ${BOOK_COLUMNS} FROM book ORDER BY id LIMIT $1 OFFSET $2`,
    values: [page.limit, page.offset],
  });
  return rows;
}

/**
 * Up to `limit` of all books after (forward, ascending) or before (backward, descending) the id
 * `from`; null starts at the respective end. An index range scan: the same cost at any depth.
 */
export async function listBooksByKeyset(
  db: Queryable,
  page: { from: number | null; limit: number; direction: 'forward' | 'backward' },
): Promise<BookRow[]> {
  const { rows } = await db.query<BookRow>({
    name: `tally_list_all_books_${page.direction}`,
    text: `SELECT ${BOOK_COLUMNS} FROM book WHERE ${keysetRange('$1', page.direction)} LIMIT $2`,
    values: [page.from, page.limit],
  });
  return rows;
}
