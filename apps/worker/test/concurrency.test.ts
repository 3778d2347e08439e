// Several relays on one outbox (FOR UPDATE SKIP LOCKED): every change mirrored once or more, never
// a count moving backwards in Redis, and the end state exact.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '@tally/cache';
import type { RunningWorker } from '@tally/worker';
import { useTestDatabase } from '../../../test/support/database.js';
import { useTestRedis } from '../../../test/support/redis.js';
import { expectConverged, resetData } from './support/converged.js';
import { createAuthors, writeStorm } from './support/writes.js';
import { startTestWorker } from './support/workers.js';

const db = useTestDatabase();
const cache = useTestRedis();
const target = () => ({ databaseUrl: db.url, redisUrl: cache.url, redisPrefix: cache.prefix });
const state = () => ({ pool: db.pool, redis: cache.redis, keys: cache.keys });
const workers: RunningWorker[] = [];

beforeEach(() => resetData(state()));
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
});

/** Reads every author's Redis version in a loop and counts any that went down. */
function watchVersions(redis: Redis, keys: RedisKeys, authorIds: readonly number[]) {
  const highest = new Map<number, number>();
  let regressions = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    for (let i = 0; running && i < 100_000; i += 1) {
      const versions = await Promise.all(authorIds.map((id) => redis.hget(keys.author(id), 'version')));
      versions.forEach((version, index) => {
        if (version === null) return;
        const id = authorIds[index]!;
        if (Number(version) < (highest.get(id) ?? 0)) regressions += 1;
        highest.set(id, Math.max(Number(version), highest.get(id) ?? 0));
      });
      samples += 1;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { regressions, samples };
    },
  };
}

describe('several workers on one outbox', () => {
  it('two workers relaying a write storm converge without any count moving backwards', async () => {
    const authors = await createAuthors(db.pool, 8);
    workers.push(await startTestWorker(target(), { batchSize: 5 }), await startTestWorker(target(), { batchSize: 5 }));
    const watcher = watchVersions(cache.redis, cache.keys, authors);
    await writeStorm(db.pool, authors, { operations: 150, writers: 3 });
    await expectConverged(state());
    const { regressions, samples } = await watcher.stop();
    expect(samples).toBeGreaterThan(10);
    expect(regressions).toBe(0);
    // Both took part: SKIP LOCKED shares the outbox instead of serializing on it.
    const rows = await Promise.all(workers.map(async (worker) => (await worker.metrics.events.get()).values[0]?.value ?? 0));
    expect(rows.every((count) => count > 0)).toBe(true);
  });
});
