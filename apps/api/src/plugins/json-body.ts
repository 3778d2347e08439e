// Request bodies: JSON only, as a DRF API configured with JSONParser. An empty body reads as no
// data (DRF's `{}`), a malformed one is DRF's 400 "JSON parse error - ...", any other media type
// is a 415 - except on DELETE, whose body DRF never reads.
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';

export interface JsonBodyOptions {
  bodyLimit: number;
}

export default fp<JsonBodyOptions>(
  async (app, options) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: options.bodyLimit }, (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text === '' || request.method === 'DELETE') {
        done(null, undefined);
        return;
      }
      try {
        // JSON.parse makes "__proto__" an own property instead of a prototype; the serializers
        // read named fields only, so no parsed object is ever merged into another.
        done(null, JSON.parse(text) as unknown);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        done(new ApiError(400, { detail: `JSON parse error - ${reason}` }, {}, { cause: error }), undefined);
      }
    });
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.bodyLimit }, (request, _body, done) => {
      if (request.method === 'DELETE') {
        done(null, undefined);
        return;
      }
      const mediaType = (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim();
      done(new ApiError(415, { detail: `Unsupported media type "${mediaType}" in request.` }), undefined);
    });
  },
  { name: 'tally-json-body' },
);
