// Bearer-token guard for writes and admin pages (when API_TOKEN is set); reads stay public.
// Tokens are compared as SHA-256 digests with timingSafeEqual: equal lengths whatever the input,
// so neither the content nor the length of the token leaks through timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';

export interface AuthOptions {
  apiToken: string | undefined;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CHALLENGE = { 'www-authenticate': 'Bearer realm="api"' };

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export default fp<AuthOptions>(
  async (app, options) => {
    const { apiToken } = options;
    if (apiToken === undefined) {
      app.addHook('onReady', async () => {
        app.log.warn('API_TOKEN is not set: every write (POST, PATCH, DELETE) and /admin/queues are open to anyone who can reach the API');
      });
      return;
    }
    const expected = digest(apiToken);

    app.addHook('onRequest', async (request) => {
      // The matched route pattern, not the raw URL: path tricks cannot dodge the admin check.
      const route = request.routeOptions.url ?? '';
      if (!WRITE_METHODS.has(request.method) && !route.startsWith('/admin')) return;
      const header = request.headers.authorization;
      const match = header === undefined ? null : /^Bearer(?:\s+(\S*))?\s*$/i.exec(header);
      if (!match) {
        throw new ApiError(401, { detail: 'Authentication credentials were not provided.' }, CHALLENGE);
      }
      if (!timingSafeEqual(digest(match[1] ?? ''), expected)) {
        throw new ApiError(401, { detail: 'Invalid token.' }, CHALLENGE);
      }
    });
  },
  { name: 'tally-auth' },
);
