// The three counted lists: authors, one author's books, all books. Each pairs its page queries
// (offset and keyset, from @tally/db) with its count from the resolver.
import type { FastifyInstance } from 'fastify';
import {
  authorExists,
  listAuthorBooksByKeyset,
  listAuthorBooksPage,
  listAuthorsByKeyset,
  listAuthorsPage,
  listBooksByKeyset,
  listBooksPage,
  type AuthorBooksPage,
  type AuthorRow,
  type BookRow,
  type ColumnCount,
} from '@tally/db';
import type { CountedList } from './pagination/counted-list.js';

const exists = async () => true;

export function authorsList(app: FastifyInstance): CountedList<AuthorRow> {
  return {
    page: (limit, offset) => listAuthorsPage(app.db, { limit, offset }),
    keyset: (from, limit, direction) => listAuthorsByKeyset(app.db, { from, limit, direction }),
    count: async () => ({ ...(await app.counts.authors()), parentConfirmed: true }),
    parentExists: exists,
  };
}

/**
 * One author's books. The page query also reads the author's column count (one round trip for
 * both); the count lookup started beside it uses that column when Redis cannot answer, and an
 * empty page knows from it whether the author exists.
 */
export function authorBooksList(app: FastifyInstance, authorId: number): CountedList<BookRow> {
  let columnOfPage: Promise<ColumnCount | undefined> | undefined;
  const withColumn = (query: Promise<AuthorBooksPage>): Promise<BookRow[]> => {
    columnOfPage = query.then((page) => page.author);
    // Awaited only when Redis cannot answer; the page's own promise reports a failed query.
    columnOfPage.catch(() => {});
    return query.then((page) => page.rows);
  };
  return {
    page: (limit, offset) => withColumn(listAuthorBooksPage(app.db, { authorId, limit, offset })),
    keyset: (from, limit, direction) => withColumn(listAuthorBooksByKeyset(app.db, { authorId, from, limit, direction })),
    // When page() ran first (it does, except for page=last), its column is reused.
    count: async (exact) => {
      const resolved = await app.counts.authorBooks(authorId, { skipRedis: exact, ...(columnOfPage ? { column: columnOfPage } : {}) });
      return resolved && { count: resolved.count, source: resolved.source, parentConfirmed: resolved.authorConfirmed };
    },
    parentExists: async () => (columnOfPage ? (await columnOfPage) !== undefined : authorExists(app.db, authorId)),
  };
}

export function allBooksList(app: FastifyInstance): CountedList<BookRow> {
  return {
    page: (limit, offset) => listBooksPage(app.db, { limit, offset }),
    keyset: (from, limit, direction) => listBooksByKeyset(app.db, { from, limit, direction }),
    count: async () => ({ ...(await app.counts.allBooks()), parentConfirmed: true }),
    parentExists: exists,
  };
}
