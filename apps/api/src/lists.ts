// The three counted lists: authors, one author's books, all books. Each pairs its page queries
// (offset and keyset, from @tally/db) with its count from the resolver.
import type { FastifyInstance } from 'fastify';
import {
  authorExists,
  listAuthorsByKeyset,
  listAuthorsPage,
  listBooksByKeyset,
  listBooksPage,
  type AuthorRow,
  type BookRow,
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

export function authorBooksList(app: FastifyInstance, authorId: number): CountedList<BookRow> {
  return {
    page: (limit, offset) => listBooksPage(app.db, { authorId, limit, offset }),
    keyset: (from, limit, direction) => listBooksByKeyset(app.db, { authorId, from, limit, direction }),
    count: async (exact) => {
      const resolved = await app.counts.authorBooks(authorId, { skipRedis: exact });
      return resolved && { count: resolved.count, source: resolved.source, parentConfirmed: resolved.authorConfirmed };
    },
    parentExists: () => authorExists(app.db, authorId),
  };
}

export function allBooksList(app: FastifyInstance): CountedList<BookRow> {
  return {
    page: (limit, offset) => listBooksPage(app.db, { authorId: null, limit, offset }),
    keyset: (from, limit, direction) => listBooksByKeyset(app.db, { authorId: null, from, limit, direction }),
    count: async () => ({ ...(await app.counts.allBooks()), parentConfirmed: true }),
    parentExists: exists,
  };
}
