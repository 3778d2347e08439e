// The OpenAPI document (/docs/json) and its UI (/docs). Every route declares its schemas, so the
// document lists every endpoint, parameter, response and error shape.
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

export default fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'tally API',
          version: '0.1.0',
          description:
            'Django REST framework-style paginated lists whose counts come from Redis, the books_count ' +
            'column or COUNT(*), in that order (see X-Count-Source). Errors use DRF shapes. Docs: docs/api.md.',
        },
        tags: [
          { name: 'authors', description: 'Authors and their books' },
          { name: 'books', description: 'Books' },
          { name: 'operations', description: 'Health, readiness, metrics' },
        ],
        components: {
          securitySchemes: {
            bearer: {
              type: 'http',
              scheme: 'bearer',
              description: 'Required for writes and /admin/queues when the server has API_TOKEN set',
            },
          },
        },
      },
      // Name shared schemas by their $id (Author, Book, Detail) instead of def-0, def-1...
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, index) => String(json.$id ?? `def-${index}`) },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'tally-docs' },
);
