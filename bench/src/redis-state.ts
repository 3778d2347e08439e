// The bench's keys on the shared Redis live under their own prefix (tally-bench: by default) and
// are removed before and after a run. During the read section the worker is not running: the
// bench mirrors the column into Redis itself, through the same version-guarded script the relay
// uses, and publishes the heartbeat. Nothing writes books meanwhile, so those counts are exact.
import {
  deleteKeysUnder,
  mirrorCounts,
  publishHeartbeat,
  withdrawHeartbeat,
  type CountChange,
  type RedisClient,
  type RedisKeys,
} from '@tally/cache';
import { readColumnCounts, type Queryable } from '@tally/db';

/** Deletes every key under the prefix, BullMQ's included (SCAN, never KEYS or FLUSHALL). */
export function deleteBenchKeys(redis: RedisClient, keys: RedisKeys): Promise<number> {
  return deleteKeysUnder(redis, keys.prefix);
}

/** Mirrors every author's column count (and version) into Redis; returns how many were written. */
export async function mirrorColumnCounts(db: Queryable, redis: RedisClient, keys: RedisKeys): Promise<number> {
  let afterId = 0;
  let mirrored = 0;
  for (;;) {
    const chunk = await readColumnCounts(db, { afterId, limit: 1000 });
    if (chunk.length === 0) return mirrored;
    const changes: CountChange[] = chunk
      .filter((row) => row.booksCount !== null)
      .map((row) => ({ authorId: row.authorId, booksCount: row.booksCount, version: row.version }));
    mirrored += (await mirrorCounts(redis, keys, changes)).written;
    afterId = chunk[chunk.length - 1]!.authorId;
  }
}

/** Declares the mirrored counts fresh for `ttlMs`, as the relay would while caught up. */
export function publishBenchHeartbeat(redis: RedisClient, keys: RedisKeys, ttlMs: number): Promise<void> {
  return publishHeartbeat(redis, keys, ttlMs, { worker: `bench:${process.pid}`, lagMs: 0, backlog: 0, at: new Date().toISOString() });
}

export function withdrawBenchHeartbeat(redis: RedisClient, keys: RedisKeys): Promise<void> {
  return withdrawHeartbeat(redis, keys);
}
