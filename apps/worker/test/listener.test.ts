// The LISTEN connection never goes deaf: it survives pg_terminate_backend and outages longer than
// pg-listen's default 3 s retry timeout, and catches up on changes committed while it was away.
// The poll is switched off here, so only the listener can deliver: these tests fail without it.
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readMirroredCount } from '@tally/cache';
import type { RunningWorker } from '@tally/worker';
import { useTestDatabase } from '../../../test/support/database.js';
import { ADMIN_DATABASE_URL } from '../../../test/support/environment.js';
import { useTestRedis } from '../../../test/support/redis.js';
import { expectConverged, resetData, waitFor } from './support/converged.js';
import { addBooks, createAuthors } from './support/writes.js';
import { startTestWorker } from './support/workers.js';

const db = useTestDatabase();
const cache = useTestRedis();
const target = () => ({ databaseUrl: db.url, redisUrl: cache.url, redisPrefix: cache.prefix });
const state = () => ({ pool: db.pool, redis: cache.redis, keys: cache.keys });
const NO_POLL = { pollIntervalMs: 600_000, listenerRetry: { initialMs: 50, maxMs: 400 } };

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL, application_name: 'tally-test-harness' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Refuses new connections to the test database while `during` runs (existing ones stay). */
async function withConnectionsRefused(during: () => Promise<void>): Promise<void> {
  await admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
  try {
    await during();
  } finally {
    await admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
  }
}

let worker: RunningWorker | undefined;
beforeEach(() => resetData(state()));
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

describe('the outbox listener', () => {
  it('wakes the relay on every commit without waiting for a poll', async () => {
    worker = await startTestWorker(target(), NO_POLL);
    await worker.whenListening();
    const [a] = await createAuthors(db.pool, 1);
    for (let i = 0; i < 5; i += 1) await addBooks(db.pool, a!, 2);
    await expectConverged(state(), { timeoutMs: 5000 });
  });

  it('reconnects after pg_terminate_backend and an outage longer than 3 s, then drains what was committed meanwhile', async () => {
    worker = await startTestWorker(target(), NO_POLL);
    await worker.whenListening();
    const [a] = await createAuthors(db.pool, 1);
    await expectConverged(state(), { timeoutMs: 5000 });

    const writer = await db.pool.connect();
    try {
      await withConnectionsRefused(async () => {
        const { rows } = await writer.query<{ terminated: boolean }>(
          `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'tally-worker-listener'`,
        );
        expect(rows).toEqual([{ terminated: true }]);
        await waitFor('the listener to notice', () => worker!.health().listener !== 'listening');
        // Committed while nobody listens: its NOTIFY is lost for good; only the outbox remembers.
        await writer.query(`INSERT INTO book (author_id, title) SELECT $1, 'during the gap' FROM generate_series(1, 3)`, [a]);
        // pg-listen's default gives up after 3 s of failed reconnects and never tries again.
        await new Promise((resolve) => setTimeout(resolve, 3500));
        expect(worker!.health().listener).toBe('reconnecting');
        // Not mirrored yet: Redis still says 0 (the proof that only the reconnect can deliver it).
        expect(await readMirroredCount(cache.redis, cache.keys, a!)).toMatchObject({ booksCount: 0 });
      });
    } finally {
      writer.release();
    }
    await expectConverged(state(), { timeoutMs: 10_000 });
    expect(worker.health().listener).toBe('listening');
    const reconnects = (await worker.metrics.reconnects.get()).values.find((value) => value.labels.connection === 'pg_listener');
    expect(reconnects?.value).toBeGreaterThanOrEqual(1);
  });

  it('keeps retrying when PostgreSQL refuses connections at start, and catches up once it accepts them', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, a!, 4);
    await withConnectionsRefused(async () => {
      worker = await startTestWorker(target(), NO_POLL);
      await waitFor('the listener to report it is down', () => worker!.health().listener === 'down');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(worker.health().listener).toBe('down');
    });
    await expectConverged(state(), { timeoutMs: 10_000 });
    expect(worker!.health().listener).toBe('listening');
  });
});
