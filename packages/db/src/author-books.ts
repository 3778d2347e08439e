// One author's page of books together with the author's books_count column, in one statement.
// The API needs both for every page of an author's books: reading them in one round trip means the
// column costs nothing extra when Redis cannot answer, and an empty page already says whether the
// author exists.
import type { Queryable } from './pool.js';
import { keysetRange } from './keyset.js';
import type { BookRow, ColumnCount } from './rows.js';

export interface AuthorBooksPage {
  /** The author's column count; undefined when the author does not exist (then rows is empty). */
  author: ColumnCount | undefined;
  rows: BookRow[];
}

interface JoinedRow {
  books_count: number | null;
  books_count_version: number;
  id: number | null;
  author_id: number | null;
  title: string | null;
  created_at: Date | null;
}

function split(rows: JoinedRow[]): AuthorBooksPage {
  const first = rows[0];
  if (!first) return { author: undefined, rows: [] };
  return {
    author: { booksCount: first.books_count, version: first.books_count_version },
    // An author without books in range still yields one row, with NULL book columns.
    rows: rows
      .filter((row) => row.id !== null)
      .map((row) => ({ id: row.id!, author_id: row.author_id!, title: row.title!, created_at: row.created_at! })),
  };
}

// The author row drives a LATERAL page of its books: book(author_id, id) serves it in id order.
const SELECT_AUTHOR_AND = `SELECT a.books_count, a.books_count_version, b.id, b.author_id, b.title, b.created_at
                             FROM author a LEFT JOIN LATERAL`;

/** Up to `limit` of the author's books in id order after skipping `offset`, with its column count. */
export async function listAuthorBooksPage(
  db: Queryable,
  page: { authorId: number; limit: number; offset: number },
): Promise<AuthorBooksPage> {
  const { rows } = await db.query<JoinedRow>({
    name: 'tally_list_author_books_page',
    text: `${SELECT_AUTHOR_AND} (SELECT id, author_id, title, created_at FROM book
                                  WHERE author_id = a.id ORDER BY id LIMIT $2 OFFSET $3) b ON true
            WHERE a.id = $1 ORDER BY b.id`,
    values: [page.authorId, page.limit, page.offset],
  });
  return split(rows);
}

/**
 * Up to `limit` of the author's books after (forward) or before (backward, descending) the id
 * `from` (null: from that end), with its column count. An index range scan at any depth.
 */
export async function listAuthorBooksByKeyset(
  db: Queryable,
  page: { authorId: number; from: number | null; limit: number; direction: 'forward' | 'backward' },
): Promise<AuthorBooksPage> {
  const forward = page.direction === 'forward';
  const { rows } = await db.query<JoinedRow>({
    name: `tally_list_author_books_${page.direction}`,
    text: `${SELECT_AUTHOR_AND} (SELECT id, author_id, title, created_at FROM book
                                  WHERE author_id = a.id AND ${keysetRange('$2', page.direction)} LIMIT $3) b ON true
            WHERE a.id = $1 ORDER BY b.id ${forward ? 'ASC' : 'DESC'}`,
    values: [page.authorId, page.from, page.limit],
  });
  return split(rows);
}
