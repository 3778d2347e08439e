// Liveness (/health: the process answers), readiness (/ready: PostgreSQL and Redis answer) and
// the Prometheus metrics (/metrics).
// Readiness also reports whether Redis counts are being served (the worker's heartbeat), for
// information only: without it the API still serves correct counts from PostgreSQL.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

const READY_TIMEOUT_MS = 1000;

const Health = Type.Object({ status: Type.Literal('ok') });
const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  postgres: Type.String({ description: '"ok" or the error' }),
  redis: Type.String({ description: '"ok" or the error' }),
  redis_counts: Type.Union([Type.Literal('fresh'), Type.Literal('stale')], {
    description: 'Whether the worker heartbeat currently lets the API serve counts from Redis',
  }),
});

async function probe(check: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

const operationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/health',
    { schema: { tags: ['operations'], summary: 'Liveness: the process is up', response: { 200: Health } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: PostgreSQL and Redis reachable (503 otherwise)',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const [postgres, redis] = await Promise.all([probe(() => app.db.query('SELECT 1')), probe(() => app.redis.ping())]);
      const ok = postgres === 'ok' && redis === 'ok';
      reply.code(ok ? 200 : 503);
      return {
        status: ok ? ('ok' as const) : ('unavailable' as const),
        postgres,
        redis,
        redis_counts: app.heartbeat.isFresh() ? ('fresh' as const) : ('stale' as const),
      };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'Prometheus text format' }) },
      },
    },
    async (_request, reply) => {
      reply.header('content-type', app.metrics.registry.contentType);
      return app.metrics.registry.metrics();
    },
  );
};

export default operationRoutes;
