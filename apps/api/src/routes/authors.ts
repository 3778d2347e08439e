// /authors and /authors/:id(/books).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { createAuthor, deleteAuthor, getAuthor, updateAuthor } from '@tally/db';
import { notFound } from '../errors.js';
import { authorBooksList, authorsList } from '../lists.js';
import { sendCountedPage } from '../pagination/counted-list.js';
import { parseId } from '../path-id.js';
import {
  AuthorCreate,
  AuthorPage,
  AuthorUpdate,
  BookPage,
  IdParams,
  ListQuery,
  NAME_MAX_LENGTH,
  commonErrors,
  writeErrors,
} from '../schemas.js';
import { BodyReader } from '../serializers/fields.js';

const tags = ['authors'];
const security = [{ bearer: [] }];
const author = Type.Ref('Author');

function readName(body: unknown, required: boolean): { name?: string } {
  const reader = new BodyReader(body);
  const name = reader.string('name', { maxLength: NAME_MAX_LENGTH, required });
  reader.finish();
  return name === undefined ? {} : { name };
}

const authorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/authors',
    {
      schema: {
        tags,
        summary: 'List authors (paginated, with books_count)',
        querystring: ListQuery,
        response: { 200: AuthorPage, ...commonErrors },
      },
    },
    async (request, reply) => sendCountedPage(request, reply, authorsList(app), app.metrics),
  );

  app.post(
    '/authors',
    { schema: { tags, summary: 'Create an author', security, body: AuthorCreate, response: { 201: author, ...writeErrors } } },
    async (request, reply) => {
      const input = readName(request.body, true);
      const row = await createAuthor(app.db, { name: input.name! });
      return reply.code(201).send(row);
    },
  );

  app.get(
    '/authors/:id',
    { schema: { tags, summary: 'Read an author', params: IdParams, response: { 200: author, ...commonErrors } } },
    async (request) => {
      const row = await getAuthor(app.db, parseId(request.params.id));
      if (!row) throw notFound();
      return row;
    },
  );

  app.patch(
    '/authors/:id',
    {
      schema: {
        tags,
        summary: 'Rename an author (books_count is read-only and ignored)',
        security,
        params: IdParams,
        body: AuthorUpdate,
        response: { 200: author, ...writeErrors },
      },
    },
    async (request) => {
      const id = parseId(request.params.id);
      const input = readName(request.body, false);
      const row = input.name === undefined ? await getAuthor(app.db, id) : await updateAuthor(app.db, id, input);
      if (!row) throw notFound();
      return row;
    },
  );

  app.delete(
    '/authors/:id',
    {
      schema: {
        tags,
        summary: 'Delete an author and its books',
        security,
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...writeErrors },
      },
    },
    async (request, reply) => {
      if (!(await deleteAuthor(app.db, parseId(request.params.id)))) throw notFound();
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/authors/:id/books',
    {
      schema: {
        tags,
        summary: "List an author's books (paginated; count from Redis, the column or COUNT)",
        params: IdParams,
        querystring: ListQuery,
        response: { 200: BookPage, ...commonErrors },
      },
    },
    async (request, reply) => sendCountedPage(request, reply, authorBooksList(app, parseId(request.params.id)), app.metrics),
  );
};

export default authorRoutes;
