// /books and /books/:id. `GET /books?author=:id` is the same list as `GET /authors/:id/books`.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PgErrorCode, createBook, deleteBook, getBook, pgErrorCode, updateBook, type BookRow } from '@tally/db';
import { notFound, validationFailed } from '../errors.js';
import { allBooksList, authorBooksList } from '../lists.js';
import { sendCountedPage } from '../pagination/counted-list.js';
import { QueryParams } from '../pagination/query-string.js';
import { parseId } from '../path-id.js';
import { BookCreate, BookListQuery, BookPage, BookUpdate, IdParams, TITLE_MAX_LENGTH, commonErrors, writeErrors } from '../schemas.js';
import { BodyReader, invalidPkMessage } from '../serializers/fields.js';

const tags = ['books'];
const security = [{ bearer: [] }];
const book = Type.Ref('Book');

interface BookInput {
  authorId?: number;
  title?: string;
}

function readBook(body: unknown, required: boolean): BookInput {
  const reader = new BodyReader(body);
  const authorId = reader.primaryKey('author_id', { required });
  const title = reader.string('title', { maxLength: TITLE_MAX_LENGTH, required });
  reader.finish();
  return { ...(authorId === undefined ? {} : { authorId }), ...(title === undefined ? {} : { title }) };
}

/**
 * Runs a write that names an author. The foreign key decides whether the author exists, in the
 * same statement, so an author deleted concurrently is a 400 like an unknown one (never a 500).
 */
async function withAuthorReference<T>(authorId: number | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (authorId !== undefined && pgErrorCode(error) === PgErrorCode.foreignKeyViolation) {
      throw validationFailed({ author_id: [invalidPkMessage(authorId)] });
    }
    throw error;
  }
}

const bookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/books',
    {
      schema: {
        tags,
        summary: 'List books (paginated); ?author=:id lists one author\'s books',
        querystring: BookListQuery,
        response: { 200: BookPage, ...commonErrors },
      },
    },
    async (request, reply) => {
      // The last value, as Django's QueryDict.get; an empty filter is no filter (django-filter).
      const author = QueryParams.fromUrl(request.url).get('author');
      const list = author === undefined || author === '' ? allBooksList(app) : authorBooksList(app, parseId(author));
      return sendCountedPage(request, reply, list, app.metrics);
    },
  );

  app.post(
    '/books',
    { schema: { tags, summary: 'Create a book', security, body: BookCreate, response: { 201: book, ...writeErrors } } },
    async (request, reply) => {
      const input = readBook(request.body, true);
      const row = await withAuthorReference(input.authorId, () =>
        createBook(app.db, { authorId: input.authorId!, title: input.title! }),
      );
      return reply.code(201).send(row);
    },
  );

  app.get(
    '/books/:id',
    { schema: { tags, summary: 'Read a book', params: IdParams, response: { 200: book, ...commonErrors } } },
    async (request) => {
      const row = await getBook(app.db, parseId(request.params.id));
      if (!row) throw notFound();
      return row;
    },
  );

  app.patch(
    '/books/:id',
    {
      schema: {
        tags,
        summary: 'Change a book: a new title and/or author_id (a move: both authors\' counts follow)',
        security,
        params: IdParams,
        body: BookUpdate,
        response: { 200: book, ...writeErrors },
      },
    },
    async (request) => {
      const id = parseId(request.params.id);
      const input = readBook(request.body, false);
      let row: BookRow | undefined;
      if (input.authorId === undefined && input.title === undefined) row = await getBook(app.db, id);
      else row = await withAuthorReference(input.authorId, () => updateBook(app.db, id, input));
      if (!row) throw notFound();
      return row;
    },
  );

  app.delete(
    '/books/:id',
    {
      schema: {
        tags,
        summary: 'Delete a book',
        security,
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...writeErrors },
      },
    },
    async (request, reply) => {
      if (!(await deleteBook(app.db, parseId(request.params.id)))) throw notFound();
      return reply.code(204).send(null);
    },
  );
};

export default bookRoutes;
