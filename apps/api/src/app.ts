// The API as a Fastify plugin that never listens: server.ts adds logging, timeouts, graceful close
// and listen(); tests build the same app and call inject() or listen on a port of their own.
// Plugins own their resources (pool, Redis connections, queues) and release them on close.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RedisOptions } from 'ioredis';
import type { Config } from '@tally/config';
import { installErrorHandling } from './errors.js';
import adminQueues from './plugins/admin-queues.js';
import auth from './plugins/auth.js';
import counts from './plugins/counts.js';
import database from './plugins/database.js';
import docs from './plugins/docs.js';
import jsonBody from './plugins/json-body.js';
import metrics from './plugins/metrics.js';
import queues from './plugins/queues.js';
import redis from './plugins/redis.js';
import authorRoutes from './routes/authors.js';
import bookRoutes from './routes/books.js';
import operationRoutes from './routes/operations.js';
import { sharedSchemas } from './schemas.js';

export interface AppOptions {
  config: Config;
  /** How often the worker's heartbeat TTL is polled (default 200 ms). */
  heartbeatIntervalMs?: number;
  /** PostgreSQL pool size (default 16; a list request uses two connections at once). */
  poolMax?: number;
  /** Server-side statement timeout of the API's queries (default 10 s). */
  statementTimeoutMs?: number;
  /** Largest accepted request body in bytes (default 64 KiB: bodies here are a name or a title). */
  bodyLimit?: number;
  /** Node process metrics at /metrics (default off; server.ts turns them on). */
  processMetrics?: boolean;
  /** ioredis option overrides for both of the API's Redis connections (tests). */
  redisOverrides?: RedisOptions;
}

export const DEFAULT_BODY_LIMIT = 64 * 1024;

async function serviceApp(app: FastifyInstance, options: AppOptions): Promise<void> {
  const { config } = options;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;

  // Requests are read with DRF's rules (serializers/, pagination/params.ts, path-id.ts), which
  // ajv's coercions contradict; the schemas document requests and serialize responses.
  app.setValidatorCompiler(() => () => true);
  for (const schema of sharedSchemas) app.addSchema(schema);
  installErrorHandling(app, { bodyLimit });

  await app.register(metrics, { processMetrics: options.processMetrics ?? false });
  await app.register(database, {
    databaseUrl: config.databaseUrl,
    poolMax: options.poolMax ?? 16,
    statementTimeoutMs: options.statementTimeoutMs ?? 10_000,
  });
  const redisOverrides = options.redisOverrides ? { overrides: options.redisOverrides } : {};
  await app.register(redis, {
    redisUrl: config.redisUrl,
    redisPrefix: config.redisPrefix,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 200,
    ...redisOverrides,
  });
  await app.register(queues, { redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, ...redisOverrides });
  await app.register(counts, { sources: config.countSources, countReuseMs: config.countStalenessMs });
  await app.register(jsonBody, { bodyLimit });
  await app.register(auth, { apiToken: config.apiToken });
  await app.register(docs);
  await app.register(adminQueues);
  await app.register(operationRoutes);
  await app.register(authorRoutes);
  await app.register(bookRoutes);
}

/** The app plugin, for embedding in another Fastify instance (decorators stay visible). */
export const tallyApi = fp(serviceApp, { name: 'tally-api' });

export interface BuildAppOptions extends Omit<AppOptions, 'config'> {
  /** Fastify's logger option; default off (tests). server.ts passes pino settings. */
  logger?: FastifyServerOptions['logger'];
  /** Other Fastify options (timeouts); the app sets trustProxy, bodyLimit and routing itself. */
  server?: Omit<FastifyServerOptions, 'logger'>;
}

/** Builds the API, ready to inject() or listen(); it has not listened yet. */
export async function buildApp(config: Config, options: BuildAppOptions = {}) {
  const { logger, server, ...appOptions } = options;
  const app = Fastify({
    ...server,
    logger: logger ?? false,
    trustProxy: config.trustProxy,
    bodyLimit: appOptions.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // DRF routers end paths with a slash; accept both spellings. Long path parameters are ids
    // beyond any bigint: let the id check answer 404, not Fastify's 414.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    // A URL Fastify cannot decode (%E0, %ZZ) names no resource: DRF's 404, not Fastify's shape.
    frameworkErrors: (error, _request, reply) => {
      const plain = reply as unknown as FastifyReply;
      if (error.code === 'FST_ERR_BAD_URL') void plain.code(404).send({ detail: 'Not found.' });
      else void plain.code(error.statusCode ?? 400).send({ detail: error.message });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  try {
    await app.register(tallyApi, { config, ...appOptions });
    await app.ready();
  } catch (error) {
    await app.close().catch(() => {});
    throw error;
  }
  return app;
}

export type TallyApp = Awaited<ReturnType<typeof buildApp>>;
