// The API's Redis connection for count reads (role 'api': no offline queue, 100 ms command
// timeout, so a dead or hung Redis costs a request at most that before the column answers), and
// the watch on the worker's heartbeat that decides whether Redis counts may be served at all.
import fp from 'fastify-plugin';
import type { RedisOptions } from 'ioredis';
import { createRedis, redisKeys, type RedisClient, type RedisKeys } from '@tally/cache';
import { HeartbeatWatch } from '../heartbeat-watch.js';
import { logThrottled } from '../log-throttle.js';

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisClient;
    redisKeys: RedisKeys;
    heartbeat: HeartbeatWatch;
  }
}

export interface RedisPluginOptions {
  redisUrl: string;
  redisPrefix: string;
  heartbeatIntervalMs: number;
  overrides?: RedisOptions;
}

const CONNECT_WAIT_MS = 1000;

/** Resolves when the connection is ready or after `timeoutMs`, whichever comes first. */
function readyOrTimeout(redis: RedisClient, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}

export default fp<RedisPluginOptions>(
  async (app, options) => {
    const keys = redisKeys(options.redisPrefix);
    const redis = createRedis(options.redisUrl, 'api', {
      connectionName: 'tally-api',
      onError: logThrottled(app.log, 'Redis connection error; counts come from PostgreSQL until it is back'),
      ...(options.overrides ? { overrides: options.overrides } : {}),
    });
    const heartbeat = new HeartbeatWatch(redis, keys, options.heartbeatIntervalMs);
    // Explicit: inferred from the union, fastify's decorate type would narrow to one member.
    app.decorate<RedisClient, 'redis'>('redis', redis);
    app.decorate('redisKeys', keys);
    app.decorate('heartbeat', heartbeat);
    app.addHook('onReady', async () => {
      // A first answer before serving, so a fresh worker's counts are used from the first request.
      await readyOrTimeout(redis, CONNECT_WAIT_MS);
      await heartbeat.refresh();
      heartbeat.start();
    });
    app.addHook('onClose', async () => {
      await heartbeat.stop();
      redis.disconnect();
    });
  },
  { name: 'tally-redis' },
);
