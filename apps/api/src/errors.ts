// Every error the API sends has one of Django REST framework's shapes: `{"detail": "..."}`, or
// field errors `{"field": ["message", ...]}` for a 400. This file owns the errors the code throws,
// how framework and PostgreSQL errors map onto those shapes, and the 404/405 answers for routes
// that do not exist. No request can turn into a 500 through its input: anything unexpected is
// logged and answered with DRF's generic server error, without internals.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PgErrorCode, pgErrorCode } from '@tally/db';

export type FieldErrors = Record<string, string[]>;

/** An error with the status and body the client receives. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly body: { detail: string } | FieldErrors,
    readonly headers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super('detail' in body && typeof body.detail === 'string' ? body.detail : JSON.stringify(body), options);
  }
}

export const notFound = (): ApiError => new ApiError(404, { detail: 'Not found.' });
export const invalidPage = (): ApiError => new ApiError(404, { detail: 'Invalid page.' });
export const invalidCursor = (): ApiError => new ApiError(404, { detail: 'Invalid cursor' });
export const validationFailed = (errors: FieldErrors): ApiError => new ApiError(400, errors);

export const SERVER_ERROR_DETAIL = 'A server error occurred.';
const DATABASE_UNAVAILABLE = 'The database is unavailable or overloaded; try again shortly.';

/** PostgreSQL could not serve the request (down, restarting, statement timeout): retry later. */
function isDatabaseUnavailable(error: unknown): boolean {
  const code = pgErrorCode(error);
  if (
    code === PgErrorCode.queryCanceled ||
    code === PgErrorCode.adminShutdown ||
    code === PgErrorCode.cannotConnectNow ||
    code?.startsWith('08') // connection exceptions
  ) {
    return true;
  }
  const message = error instanceof Error ? error.message : '';
  const errno = (error as { code?: unknown } | null)?.code;
  return (
    (typeof errno === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(errno)) ||
    /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(
      message,
    )
  );
}

/** Maps errors thrown by Fastify's body parsing to DRF's texts. */
function frameworkError(error: FastifyError, bodyLimit: number): ApiError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return undefined; // answered by unsupportedMediaType(), which needs the request
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, { detail: `Request body is too large: the limit is ${bodyLimit} bytes.` });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, { detail: 'Request body size did not match Content-Length.' });
    default:
      if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
        return new ApiError(error.statusCode, { detail: error.message });
      }
      return undefined;
  }
}

function unsupportedMediaType(request: FastifyRequest): ApiError {
  const contentType = request.headers['content-type'] ?? '';
  const mediaType = contentType.split(';', 1)[0]!.trim();
  return new ApiError(415, { detail: `Unsupported media type "${mediaType}" in request.` });
}

function send(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply.code(error.statusCode).headers(error.headers).send(error.body);
}

/** The routes that exist, for 405 answers: DRF answers a known path with a wrong method by 405. */
const KNOWN_PATHS: ReadonlyArray<{ pattern: RegExp; methods: readonly string[] }> = [
  { pattern: /^\/authors\/?$/, methods: ['GET', 'POST'] },
  { pattern: /^\/authors\/[^/]+\/?$/, methods: ['GET', 'PATCH', 'DELETE'] },
  { pattern: /^\/authors\/[^/]+\/books\/?$/, methods: ['GET'] },
  { pattern: /^\/books\/?$/, methods: ['GET', 'POST'] },
  { pattern: /^\/books\/[^/]+\/?$/, methods: ['GET', 'PATCH', 'DELETE'] },
  { pattern: /^\/(health|ready|metrics)\/?$/, methods: ['GET'] },
];

function allowHeader(methods: readonly string[]): string {
  return [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
}

export interface ErrorHandlingOptions {
  bodyLimit: number;
}

/** Installs the error handler and the handler for unknown routes and methods. */
export function installErrorHandling(app: FastifyInstance, options: ErrorHandlingOptions): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof ApiError) return send(reply, error);
    const fastifyError = error as FastifyError;
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return send(reply, unsupportedMediaType(request));
    const mapped = frameworkError(fastifyError, options.bodyLimit);
    if (mapped) return send(reply, mapped);
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'PostgreSQL unavailable while serving the request');
      return send(reply, new ApiError(503, { detail: DATABASE_UNAVAILABLE }, { 'retry-after': '1' }));
    }
    request.log.error({ err: error }, 'unhandled error while serving the request');
    return reply.code(500).send({ detail: SERVER_ERROR_DETAIL });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0]!;
    const known = KNOWN_PATHS.find((entry) => entry.pattern.test(path));
    if (!known || known.methods.includes(request.method) || (request.method === 'HEAD' && known.methods.includes('GET'))) {
      return send(reply, notFound());
    }
    const allow = allowHeader(known.methods);
    if (request.method === 'OPTIONS') {
      // DRF answers OPTIONS with the view's metadata; these are its generic fields.
      return reply
        .code(200)
        .header('allow', allow)
        .send({ renders: ['application/json'], parses: ['application/json'], allowed_methods: allow.split(', ') });
    }
    return send(reply, new ApiError(405, { detail: `Method "${request.method}" not allowed.` }, { allow }));
  });
}
