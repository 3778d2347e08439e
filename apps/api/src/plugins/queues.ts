// BullMQ producers: the `backfill` queue the count resolver feeds, and both queues for the
// dashboard. They use their own 'producer' connection (no offline queue, 500 ms timeout), so a
// Redis outage makes `add` fail fast instead of piling up behind HTTP requests.
import fp from 'fastify-plugin';
import { Queue } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { BACKFILL_QUEUE, RECONCILE_QUEUE, createRedis, redisKeys, type BackfillJobData, type RedisClient } from '@tally/cache';
import { BackfillRequests } from '../backfill-requests.js';
import { logThrottled } from '../log-throttle.js';

declare module 'fastify' {
  interface FastifyInstance {
    queues: { backfill: Queue<BackfillJobData>; reconcile: Queue; connection: RedisClient };
    backfill: BackfillRequests;
  }
}

export interface QueuesOptions {
  redisUrl: string;
  redisPrefix: string;
  overrides?: RedisOptions;
}

const CLOSE_TIMEOUT_MS = 2000;

export default fp<QueuesOptions>(
  async (app, options) => {
    const onError = logThrottled(app.log, 'BullMQ producer connection error; backfill requests are skipped until Redis is back');
    const connection = createRedis(options.redisUrl, 'producer', {
      connectionName: 'tally-api-producer',
      onError,
      ...(options.overrides ? { overrides: options.overrides } : {}),
    });
    const prefix = redisKeys(options.redisPrefix).bullPrefix;
    const backfill = new Queue<BackfillJobData>(BACKFILL_QUEUE, { connection, prefix });
    const reconcile = new Queue(RECONCILE_QUEUE, { connection, prefix });
    backfill.on('error', onError);
    reconcile.on('error', onError);
    app.decorate('queues', { backfill, reconcile, connection });
    app.decorate('backfill', new BackfillRequests(backfill, connection, app.metrics, app.log));
    app.addHook('onClose', async () => {
      // Queue.close() waits for Redis; a dead Redis must not hold the shutdown.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      });
      await Promise.race([Promise.allSettled([backfill.close(), reconcile.close()]), timeout]);
      clearTimeout(timer);
      connection.disconnect();
    });
  },
  { name: 'tally-queues', dependencies: ['tally-metrics'] },
);
