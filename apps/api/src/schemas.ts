// The shapes of every request and response, as TypeBox (JSON Schema). They document the API in
// OpenAPI and compile the response serializers (fast-json-stringify: fast, and only the declared
// properties leave the server, in the declared order). Request values are validated by
// serializers/fields.ts and pagination/params.ts with DRF's rules; see docs/api.md.
import { Type, type Static, type TSchema } from 'typebox';

/**
 * `T | null` as OpenAPI 3.0's `nullable` rather than anyOf: fast-json-stringify serializes it
 * without running a validator per value to pick the branch.
 */
function Nullable<T extends TSchema>(schema: T, options: Record<string, unknown> = {}) {
  return Type.Unsafe<Static<T> | null>({ ...schema, nullable: true, ...options });
}

export const NAME_MAX_LENGTH = 200;
export const TITLE_MAX_LENGTH = 500;

export const Author = Type.Object(
  {
    id: Type.Integer({ minimum: 1 }),
    name: Type.String({ maxLength: NAME_MAX_LENGTH }),
    books_count: Nullable(Type.Integer({ minimum: 0 }), {
      description: 'Exact number of books, kept by the database; null while not computed yet (legacy rows)',
    }),
    created_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Author' },
);

export const Book = Type.Object(
  {
    id: Type.Integer({ minimum: 1 }),
    author_id: Type.Integer({ minimum: 1 }),
    title: Type.String({ maxLength: TITLE_MAX_LENGTH }),
    created_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Book' },
);

const name = Type.String({
  minLength: 1,
  maxLength: NAME_MAX_LENGTH,
  description: 'Surrounding whitespace is trimmed; must not be blank, contain NUL or lone surrogates',
});
const title = Type.String({
  minLength: 1,
  maxLength: TITLE_MAX_LENGTH,
  description: 'Surrounding whitespace is trimmed; must not be blank, contain NUL or lone surrogates',
});
const authorId = Type.Integer({ minimum: 1, description: 'An existing author (a numeric string is accepted too)' });

export const AuthorCreate = Type.Object({ name });
export const AuthorUpdate = Type.Object({ name: Type.Optional(name) }, {
  description: 'Partial update; books_count is read-only and ignored (the database keeps it)',
});
export const BookCreate = Type.Object({ author_id: authorId, title });
export const BookUpdate = Type.Object(
  { author_id: Type.Optional(authorId), title: Type.Optional(title) },
  { description: 'Partial update; a new author_id moves the book (both counts follow)' },
);

export const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9]+$', description: 'A positive integer id' }) });

const pageQuery = {
  page: Type.Optional(
    Type.String({ description: 'Page number from 1, or "last"; anything else is 404 "Invalid page." (page-number mode)' }),
  ),
  page_size: Type.Optional(
    Type.String({ description: 'Rows per page: default 20, at most 100 (larger is clamped, invalid falls back to 20)' }),
  ),
  cursor: Type.Optional(
    Type.String({ description: 'Selects cursor mode, even empty (the first page); use the next/previous links' }),
  ),
};
export const ListQuery = Type.Object(pageQuery);
export const BookListQuery = Type.Object({
  ...pageQuery,
  author: Type.Optional(Type.String({ description: 'Only the books of this author id (404 when it does not exist)' })),
});

export const countSourceHeader = {
  'x-count-source': Type.Union([Type.Literal('redis'), Type.Literal('column'), Type.Literal('count')], {
    description: 'Where the count came from',
  }),
};

function pageOf(item: TSchema, description: string) {
  return Type.Object(
    {
      count: Type.Integer({ minimum: 0, description: 'Total rows in the list (never fewer than the page proves)' }),
      next: Nullable(Type.String({ format: 'uri' }), { description: 'Absolute URL of the next page' }),
      previous: Nullable(Type.String({ format: 'uri' }), { description: 'Absolute URL of the previous page' }),
      results: Type.Array(item),
    },
    // `headers` is read by @fastify/swagger only: the header every counted response carries.
    { description, headers: countSourceHeader },
  );
}

export const AuthorPage = pageOf(Type.Ref('Author'), 'A page of authors in id order');
export const BookPage = pageOf(Type.Ref('Book'), 'A page of books in id order');

export const Detail = Type.Object({ detail: Type.String() }, { $id: 'Detail', description: 'DRF error: {"detail": "..."}' });
export const FieldErrorsSchema = Type.Record(Type.String(), Type.Array(Type.String()), {
  $id: 'FieldErrors',
  description: 'DRF validation errors: {"field": ["message", ...]} (or "non_field_errors")',
});

const detail = (description: string) => Type.Ref('Detail', { description });

/** Error responses every route may give. */
export const commonErrors = {
  404: detail('{"detail": "Not found."} (unknown id), "Invalid page." or "Invalid cursor"'),
  405: detail('{"detail": "Method \\"X\\" not allowed."}'),
  503: detail('PostgreSQL unavailable, or a count that cannot be served under COUNT_SOURCES'),
};
export const writeErrors = {
  ...commonErrors,
  400: Type.Union([Type.Ref('FieldErrors'), Type.Ref('Detail')], {
    description: 'Invalid body: field errors, or {"detail": "JSON parse error - ..."}',
  }),
  401: detail('Missing or invalid `Authorization: Bearer <token>` (when API_TOKEN is set)'),
  413: detail('Body larger than the limit'),
  415: detail('Content-Type is not application/json'),
};

export const sharedSchemas = [Author, Book, Detail, FieldErrorsSchema];
