// Absolute `next`/`previous` links built from the request, as DRF's `build_absolute_uri()` does:
// scheme and host of the request (X-Forwarded-Proto/Host only when TRUST_PROXY is set, through
// Fastify's trustProxy), the path as received, and the query with one parameter replaced.
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import { QueryParams } from './query-string.js';

// Django's host_validation_re: a host name or bracketed IPv6 address, an optional port. A Host
// header outside it could smuggle text into the links we hand out.
const VALID_HOST = /^([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(:[0-9]+)?$/i;

export class RequestUrl {
  private constructor(
    /** scheme://host/path, without the query. */
    private readonly base: string,
    readonly query: QueryParams,
  ) {}

  static of(request: FastifyRequest): RequestUrl {
    const host = request.host;
    if (!VALID_HOST.test(host)) throw new ApiError(400, { detail: 'Invalid Host header.' });
    const scheme = request.protocol === 'https' ? 'https' : 'http';
    const url = request.url;
    const mark = url.indexOf('?');
    const path = mark === -1 ? url : url.slice(0, mark);
    return new RequestUrl(`${scheme}://${host}${path}`, QueryParams.fromUrl(url));
  }

  /** This URL with `name` set to `value`, or removed when `value` is null. */
  with(name: string, value: string | number | null): string {
    const query = this.query.encodeWith(name, value === null ? null : String(value));
    return query === '' ? this.base : `${this.base}?${query}`;
  }
}
