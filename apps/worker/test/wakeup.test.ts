// Writers NOTIFY only while a relay waits (migration 0002). These tests switch the poll off, so a
// change that slipped past the relay's last look without a notification would never be mirrored.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RELAY_WAKEUP_LOCK } from '@tally/db';
import type { RunningWorker } from '@tally/worker';
import { useTestDatabase } from '../../../test/support/database.js';
import { useTestRedis } from '../../../test/support/redis.js';
import { expectConverged, resetData, waitFor } from './support/converged.js';
import { addBooks, createAuthors, writeStorm } from './support/writes.js';
import { startTestWorker } from './support/workers.js';

const db = useTestDatabase();
const cache = useTestRedis();
const target = () => ({ databaseUrl: db.url, redisUrl: cache.url, redisPrefix: cache.prefix });
const state = () => ({ pool: db.pool, redis: cache.redis, keys: cache.keys });
const NO_POLL = { pollIntervalMs: 600_000 };

/** Application names of sessions holding the wake-up lock exclusively. */
async function wakeupLockHolders(): Promise<string[]> {
  const { rows } = await db.pool.query<{ application_name: string }>(
    `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2
        AND l.mode = 'ExclusiveLock' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [...RELAY_WAKEUP_LOCK],
  );
  return rows.map((row) => row.application_name);
}

/** Sessions waiting (not yet granted) for the wake-up lock exclusively. */
async function wakeupLockWaiters(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 2 AND mode = 'ExclusiveLock' AND NOT granted`,
    [...RELAY_WAKEUP_LOCK],
  );
  return rows[0]!.n;
}

let workers: RunningWorker[] = [];
beforeEach(() => resetData(state()));
afterEach(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  workers = [];
});

describe('the relay wakes writers up to notify only while it waits', () => {
  it('an idle relay holds the wake-up lock, so the next commit notifies it', async () => {
    const worker = await startTestWorker(target(), NO_POLL);
    workers.push(worker);
    await worker.whenListening();
    await waitFor('the idle relay to hold the wake-up lock', async () => (await wakeupLockHolders()).length === 1);
    expect((await wakeupLockHolders())[0]).toMatch(/^tally-worker-wakeup:/);
    const [a] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, a!, 3);
    await expectConverged(state(), { timeoutMs: 5000 });
  });

  it('changes committed while the relay drains, silently, are all mirrored without a poll', async () => {
    const worker = await startTestWorker(target(), { ...NO_POLL, batchSize: 20 });
    workers.push(worker);
    await worker.whenListening();
    const authors = await createAuthors(db.pool, 12);
    // Many writers over many short drains: every drain ends by waiting for the silent writers.
    await writeStorm(db.pool, authors, { operations: 80, writers: 6 });
    await expectConverged(state(), { timeoutMs: 10_000 });
  });

  it('a writer still open when the relay runs dry is waited for and mirrored, though it never notified', async () => {
    // Batches of one make the drain long enough to start a writer in the middle of it.
    const worker = await startTestWorker(target(), { ...NO_POLL, batchSize: 1, wakeupTimeoutMs: 5000 });
    workers.push(worker);
    await worker.whenListening();
    const authors = await createAuthors(db.pool, 150);
    await waitFor('the idle relay to hold the wake-up lock', async () => (await wakeupLockHolders()).length === 1);
    await db.pool.query(`INSERT INTO book (author_id, title) SELECT unnest($1::bigint[]), 'wake the relay'`, [authors]);
    await waitFor('the busy relay to release the wake-up lock', async () => (await wakeupLockHolders()).length === 0, 5000);

    const silent = await db.pool.connect();
    try {
      await silent.query('BEGIN');
      // The relay is busy, so this writer takes the lock shared and will commit without NOTIFY.
      await silent.query(`INSERT INTO book (author_id, title) VALUES ($1, 'silent')`, [authors[0]]);
      // Commit only once the relay has run dry and waits for this writer to finish.
      await waitFor('the relay to wait for the open writer', async () => (await wakeupLockWaiters()) === 1, 10_000);
      await silent.query('COMMIT');
    } finally {
      silent.release();
    }
    // No poll and no notification: only the relay's wait-then-look-again can mirror it.
    await expectConverged(state(), { timeoutMs: 10_000 });
  });

  it('two relays share the lock: one waits on notifications, the other stays correct', async () => {
    for (let i = 0; i < 2; i += 1) {
      const worker = await startTestWorker(target(), NO_POLL);
      workers.push(worker);
      await worker.whenListening();
    }
    await waitFor('one relay to hold the wake-up lock', async () => (await wakeupLockHolders()).length === 1);
    const authors = await createAuthors(db.pool, 5);
    await writeStorm(db.pool, authors, { operations: 40, writers: 4 });
    await expectConverged(state(), { timeoutMs: 10_000 });
  });
});
