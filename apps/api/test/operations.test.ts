// What operators and client generators use: /health, /ready, /metrics, the OpenAPI document and
// UI, and the BullMQ dashboard.
import { describe, expect, it } from 'vitest';
import { useTestDatabase, useTestRedis } from '@tally/test-support';
import { authorWithBooks, useApps } from './helpers.js';

const db = useTestDatabase();
const redis = useTestRedis();
const buildApi = useApps(db, redis);

interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: unknown;
  responses: Record<string, { headers?: Record<string, unknown> }>;
}
type OpenApi = { paths: Record<string, Record<string, OpenApiOperation>>; components: { schemas: Record<string, unknown> } };

describe('operations endpoints', () => {
  it('answers /health and /ready', async () => {
    const api = await buildApi();
    const health = await api.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await api.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', postgres: 'ok', redis: 'ok', redis_counts: 'stale' });
  });

  it('reports counts per source and resolver latency at /metrics', async () => {
    const api = await buildApi();
    const { id } = await authorWithBooks(db.pool, 'Ann', 3);
    await api.inject({ method: 'GET', url: `/authors/${id}/books` });
    await api.inject({ method: 'GET', url: '/authors' });
    const metrics = await api.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.body).toContain('tally_api_counted_responses_total{source="column"} 1');
    expect(metrics.body).toContain('tally_api_counted_responses_total{source="count"} 1');
    expect(metrics.body).toContain('tally_api_counted_responses_total{source="redis"} 0');
    expect(metrics.body).toMatch(/tally_api_count_resolve_seconds_count\{source="column"\} 1/);
    expect(metrics.body).toContain('tally_api_count_fallbacks_total{reason="heartbeat_stale"} 1');
    expect(metrics.body).toMatch(/tally_api_http_request_duration_seconds_count\{method="GET",route="\/authors\/:id\/books",status_code="200"\} 1/);
  });

  it('describes every endpoint, parameter, response and error shape in the OpenAPI document', async () => {
    const api = await buildApi();
    const response = await api.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    const document = response.json() as OpenApi;
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'GET /authors',
        'POST /authors',
        'GET /authors/{id}',
        'PATCH /authors/{id}',
        'DELETE /authors/{id}',
        'GET /authors/{id}/books',
        'GET /books',
        'POST /books',
        'GET /books/{id}',
        'PATCH /books/{id}',
        'DELETE /books/{id}',
        'GET /health',
        'GET /ready',
        'GET /metrics',
      ].sort(),
    );
    const books = document.paths['/authors/{id}/books']!.get!;
    expect(books.parameters!.map((parameter) => `${parameter.in}:${parameter.name}`).sort()).toEqual(
      ['path:id', 'query:cursor', 'query:page', 'query:page_size'].sort(),
    );
    expect(Object.keys(books.responses).sort()).toEqual(['200', '404', '405', '503']);
    expect(books.responses['200']!.headers).toHaveProperty('x-count-source');
    expect(document.paths['/books']!.get!.parameters!.map((parameter) => parameter.name)).toContain('author');
    const createBook = document.paths['/books']!.post!;
    expect(createBook.requestBody).toBeDefined();
    expect(Object.keys(createBook.responses).sort()).toEqual(['201', '400', '401', '404', '405', '413', '415', '503']);
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['Author', 'Book', 'Detail', 'FieldErrors']));
  });

  it('serves the OpenAPI UI at /docs and the queue dashboard at /admin/queues', async () => {
    const api = await buildApi();
    const docs = await api.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
    const dashboard = await api.inject({ method: 'GET', url: '/admin/queues' });
    expect(dashboard.statusCode).toBe(200);
    const queues = await api.inject({ method: 'GET', url: '/admin/queues/api/queues' });
    expect(queues.statusCode).toBe(200);
    const names = (queues.json() as { queues: Array<{ name: string }> }).queues.map((queue) => queue.name).sort();
    expect(names).toEqual(['backfill', 'reconcile']);
  });
});
