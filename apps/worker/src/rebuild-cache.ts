// Re-mirrors every author from the column into Redis, for when Redis lost data (FLUSHALL, a
// restart) or an operator asks (`tally counts rebuild-cache`). Safe beside running relays: every
// write goes through the version-guarded scripts. The heartbeat stays withdrawn from the start
// until the new epoch is committed, so the API uses the column meanwhile.
import { randomUUID } from 'node:crypto';
import {
  abandonEpochRebuild,
  beginEpochRebuild,
  commitEpoch,
  extendEpochRebuild,
  mirrorCounts,
  readServerIdentity,
  withdrawHeartbeat,
} from '@tally/cache';
import { readColumnCounts } from '@tally/db';
import type { RelayContext } from './outbox-relay.js';
import { removeOrphanKeys } from './orphan-keys.js';

export interface RebuildProgress {
  /** Authors re-mirrored so far. */
  authors: number;
  /** The last author id done (the scan goes in id order). */
  afterId: number;
  written: number;
  removed: number;
  unchanged: number;
}

export interface RebuildResult extends RebuildProgress {
  orphansRemoved: number;
  /**
   * Whether the new epoch was committed. False when the rebuild was aborted, when Redis lost the
   * marker meanwhile (another FLUSHALL: run it again) or another rebuild took over.
   */
  committed: boolean;
}

export interface RebuildOptions {
  /** Authors per chunk (one query, one pipelined Redis round trip). */
  chunkSize?: number;
  /** How long the `pending` marker outlives a rebuilder that stopped extending it. */
  markerTtlMs?: number;
  onProgress?: (progress: RebuildProgress) => void;
  /** Stops between chunks, without committing. */
  signal?: AbortSignal;
}

export async function rebuildCache(context: RelayContext, options: RebuildOptions = {}): Promise<RebuildResult> {
  const chunkSize = options.chunkSize ?? 1000;
  const markerTtlMs = options.markerTtlMs ?? 30_000;
  const { redis, keys } = context;
  // Read before any write: if Redis (on a cluster, any master) restarts during the rebuild, the
  // committed epoch names the old server and the next check rebuilds again.
  const server = await readServerIdentity(redis, keys);
  const token = randomUUID();
  await withdrawHeartbeat(redis, keys);
  await beginEpochRebuild(redis, keys, token, markerTtlMs);

  const progress: RebuildProgress = { authors: 0, afterId: 0, written: 0, removed: 0, unchanged: 0 };
  const result = (committed: boolean, orphansRemoved = 0): RebuildResult => ({ ...progress, orphansRemoved, committed });
  try {
    if (await mirrorEveryAuthor(context, token, progress, { ...options, chunkSize, markerTtlMs })) {
      const orphansRemoved = await removeOrphanKeys(context);
      return result(await commitEpoch(redis, keys, token, server), orphansRemoved);
    }
  } catch (error) {
    await abandonEpochRebuild(redis, keys, token).catch(() => {});
    throw error;
  }
  // Stopped, or the marker was lost: let the next check start over without waiting for it to expire.
  await abandonEpochRebuild(redis, keys, token).catch(() => {});
  return result(false);
}

/** Mirrors every author in chunks; false when stopped or when the marker was lost. */
async function mirrorEveryAuthor(
  context: RelayContext,
  token: string,
  progress: RebuildProgress,
  options: RebuildOptions & { chunkSize: number; markerTtlMs: number },
): Promise<boolean> {
  const { redis, keys } = context;
  const { chunkSize, markerTtlMs } = options;
  for (;;) {
    if (options.signal?.aborted) return false;
    const chunk = await readColumnCounts(context.pool, { afterId: progress.afterId, limit: chunkSize });
    if (chunk.length === 0) return true;
    const mirrored = await mirrorCounts(
      redis,
      keys,
      chunk.map((row) => ({ authorId: row.authorId, booksCount: row.booksCount, version: row.version })),
    );
    progress.authors += chunk.length;
    progress.afterId = chunk[chunk.length - 1]!.authorId;
    progress.written += mirrored.written;
    progress.removed += mirrored.removed;
    progress.unchanged += mirrored.unchanged;
    if (!(await extendEpochRebuild(redis, keys, token, markerTtlMs))) return false;
    options.onProgress?.({ ...progress });
    if (chunk.length < chunkSize) return true;
  }
}
