// What supervisors and Prometheus see on WORKER_PORT.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningWorker } from '@tally/worker';
import { useTestDatabase } from '../../../test/support/database.js';
import { useTestRedis } from '../../../test/support/redis.js';
import { expectConverged, waitFor } from './support/converged.js';
import { addBooks, createAuthors } from './support/writes.js';
import { startTestWorker } from './support/workers.js';

const db = useTestDatabase();
const cache = useTestRedis();
let worker: RunningWorker | undefined;
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

describe('health and metrics', () => {
  it('/health reports the listener, the last drain, Redis and the cache state; /metrics the relay in Prometheus format', async () => {
    worker = await startTestWorker({ databaseUrl: db.url, redisUrl: cache.url, redisPrefix: cache.prefix });
    const [author] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, author!, 3);
    await expectConverged({ pool: db.pool, redis: cache.redis, keys: cache.keys });
    await waitFor('a healthy worker', () => worker!.health().status === 'ok' && worker!.health().cache === 'trusted');

    const health = await fetch(`http://127.0.0.1:${worker.port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', problems: [], listener: 'listening', redis: 'ready', cache: 'trusted' });

    const metrics = await fetch(`http://127.0.0.1:${worker.port}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await metrics.text();
    for (const name of [
      'tally_outbox_backlog',
      'tally_outbox_oldest_pending_seconds',
      'tally_relay_commit_to_redis_lag_seconds_bucket',
      'tally_relay_batches_total',
      'tally_relay_mirrored_total{outcome="written"}',
      'tally_worker_listener_up 1',
      'tally_worker_cache_trusted 1',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/tally_relay_commit_to_redis_lag_seconds_count [1-9]/);
  });
});
