// The count resolver, wired to the resources the other plugins own.
import fp from 'fastify-plugin';
import type { CountSource } from '@tally/config';
import { CountResolver } from '../count-resolver.js';

declare module 'fastify' {
  interface FastifyInstance {
    counts: CountResolver;
  }
}

export interface CountsOptions {
  sources: readonly CountSource[];
  countReuseMs: number;
}

export default fp<CountsOptions>(
  async (app, options) => {
    app.decorate(
      'counts',
      new CountResolver({
        db: app.db,
        redis: app.redis,
        keys: app.redisKeys,
        heartbeat: app.heartbeat,
        backfill: app.backfill,
        metrics: app.metrics,
        sources: options.sources,
        countReuseMs: options.countReuseMs,
      }),
    );
  },
  { name: 'tally-counts', dependencies: ['tally-database', 'tally-redis', 'tally-queues', 'tally-metrics'] },
);
