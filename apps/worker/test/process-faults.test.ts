// The built worker as a supervisor runs it (node apps/worker/dist/main.js; `npm test` builds it
// first): kill -9 at any moment loses nothing, SIGTERM/SIGINT finish the batch in flight and exit 0.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../test/support/database.js';
import { useTestRedis } from '../../../test/support/redis.js';
import { expectConverged, resetData, waitFor } from './support/converged.js';
import { createAuthors, writeStorm } from './support/writes.js';
import { spawnWorker, stopProcess, type WorkerProcess } from './support/workers.js';

const db = useTestDatabase();
const cache = useTestRedis();
const target = () => ({ databaseUrl: db.url, redisUrl: cache.url, redisPrefix: cache.prefix, countStalenessMs: 1000 });
const state = () => ({ pool: db.pool, redis: cache.redis, keys: cache.keys });
const running: WorkerProcess[] = [];
const spawn = async () => {
  const worker = await spawnWorker(target());
  running.push(worker);
  return worker;
};
const outboxRows = async () => (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tally.count_outbox')).rows[0]!.n;

beforeEach(() => resetData(state()));
afterEach(async () => {
  for (const worker of running.splice(0)) await stopProcess(worker, 'SIGKILL').catch(() => {});
});

describe('the worker process under signals', () => {
  it('kill -9 in the middle of a write storm loses nothing: the next worker converges, and the heartbeat expires meanwhile', async () => {
    const authors = await createAuthors(db.pool, 20);
    const first = await spawn();
    await first.listening();
    const storm = writeStorm(db.pool, authors, { operations: 120, writers: 2, pauseMs: 4 });
    await waitFor('some changes to be mirrored', async () => (await cache.redis.exists(cache.keys.relayHeartbeat)) === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await stopProcess(first, 'SIGKILL')).toBe('SIGKILL');
    await waitFor('the heartbeat to expire', async () => (await cache.redis.exists(cache.keys.relayHeartbeat)) === 0, 5000);

    const second = await spawn();
    await storm;
    await expectConverged(state());
    expect(await stopProcess(second, 'SIGTERM')).toBe(0);
  });

  it('SIGTERM during a batch finishes it, exits 0 within 10 s, and the next worker relays the rest', async () => {
    // One statement, 20,000 outbox rows: dozens of batches.
    await db.pool.query(`INSERT INTO author (name) SELECT 'bulk ' || g FROM generate_series(1, 20000) g`);
    const worker = await spawn();
    await waitFor('the relay to be mid-drain', async () => (await outboxRows()) < 20_000, 10_000);
    expect(await stopProcess(worker, 'SIGTERM', 10_000)).toBe(0);
    expect(worker.logs.some((line) => line.msg === 'worker stopped' && line.failures === 0)).toBe(true);

    const next = await spawn();
    await expectConverged(state(), { timeoutMs: 30_000 });
    expect(await stopProcess(next, 'SIGINT', 10_000)).toBe(0);
  });
});
