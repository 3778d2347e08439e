// The app's Prometheus metrics (served at /metrics by routes/operations.ts): counts served per
// source, resolver latency and fallbacks, COUNT(*) queries, backfill requests, HTTP durations.
import fp from 'fastify-plugin';
import { ApiMetrics } from '../metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ApiMetrics;
  }
}

export interface MetricsOptions {
  /** Node process metrics (CPU, memory, event loop); off in tests, where apps share a process. */
  processMetrics: boolean;
}

export default fp<MetricsOptions>(
  async (app, options) => {
    const metrics = new ApiMetrics({ processMetrics: options.processMetrics });
    app.decorate('metrics', metrics);

    app.addHook('onResponse', async (request, reply) => {
      metrics.httpDuration
        .labels(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode))
        .observe(reply.elapsedTime / 1000);
    });
  },
  { name: 'tally-metrics' },
);
