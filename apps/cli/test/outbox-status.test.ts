// `tally outbox status`: backlog and oldest change from the database, heartbeat, epoch and live
// workers from Redis, and the BullMQ queues.
import { publishHeartbeat } from '@tally/cache';
import { describe, expect, it } from 'vitest';
import { useTestDatabase, useTestRedis } from '../../../test/support/index.js';
import { parseJson, runCli } from './run-cli.js';

const db = useTestDatabase();
const redis = useTestRedis();
const env = () => ({ DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix });

interface Status {
  backlog: number;
  oldestAgeMs: number;
  heartbeat: { fresh: boolean; worker: string | null };
  epoch: boolean;
  workers: Array<{ id: string; details: unknown }>;
  queues: Record<string, Record<string, number>>;
}

describe('tally outbox status', () => {
  it('with no worker: the backlog of unmirrored changes, no heartbeat, no workers', async () => {
    await db.pool.query(`INSERT INTO author (name) SELECT 'a' || g FROM generate_series(1, 3) g`);
    const run = await runCli(['outbox', 'status', '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    const status = parseJson<Status>(run);
    expect(status.backlog).toBe(3);
    expect(status.oldestAgeMs).toBeGreaterThanOrEqual(0);
    expect(status.heartbeat.fresh).toBe(false);
    expect(status.workers).toEqual([]);
    expect(Object.keys(status.queues).sort()).toEqual(['backfill', 'reconcile']);
    expect(status.queues.backfill).toMatchObject({ waiting: 0, active: 0, failed: 0 });

    const text = await runCli(['outbox', 'status'], env());
    expect(text.stdout).toContain('3 change(s) waiting');
    expect(text.stdout).toContain('heartbeat  missing');
  });

  it('lists the workers whose presence keys are alive and the heartbeat they publish', async () => {
    // What a running worker keeps in Redis (see packages/cache/src/keys.ts).
    await redis.redis.set(redis.keys.worker('host-a:41'), JSON.stringify({ worker: 'host-a:41', pid: 41 }), 'PX', 30_000);
    await redis.redis.set(redis.keys.worker('host-b:42'), JSON.stringify({ worker: 'host-b:42', pid: 42 }), 'PX', 30_000);
    await publishHeartbeat(redis.redis, redis.keys, 30_000, { worker: 'host-a:41', lagMs: 3, backlog: 0, at: new Date().toISOString() });
    const status = parseJson<Status>(await runCli(['outbox', 'status', '--json'], env()));
    expect(status.workers.map((worker) => worker.id)).toEqual(['host-a:41', 'host-b:42']);
    expect(status.workers[0]!.details).toMatchObject({ pid: 41 });
    expect(status.heartbeat).toMatchObject({ fresh: true, worker: 'host-a:41' });
  });
});
