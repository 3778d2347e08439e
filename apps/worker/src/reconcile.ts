// The periodic check that nothing drifted, in chunks of authors in id order:
// 1. column vs COUNT(*), read in one snapshot (so a difference is drift, not a race): writes that
//    bypassed the triggers (session_replication_role = replica, DISABLE TRIGGER, a restore).
//    Repaired with tally.refresh_books_counts(), exact while writers continue, which also queues
//    the new version for the relay. Every drifting author is reported.
// 2. Redis vs column: a missing, older or corrupted hash is rewritten through the version-guarded
//    scripts (never a forced write), so a relay racing ahead is never overwritten.
// 3. Redis keys of authors that no longer exist are removed.
import { mirrorCounts, readMirroredCount, type CountChange, type MirroredCount } from '@tally/cache';
import { authorsWithPendingChanges, compareCounts, refreshBooksCounts } from '@tally/db';
import type { RelayContext } from './outbox-relay.js';
import { removeOrphanKeys } from './orphan-keys.js';

export interface ColumnDrift {
  authorId: number;
  /** The column before the repair. */
  column: number;
  /** The exact count it was repaired to. */
  actual: number;
  /** The repaired count's version. */
  version: number;
}

export interface ReconcileProgress {
  /** Authors checked so far. */
  scanned: number;
  /** The last author id checked; resume after it. */
  afterId: number;
  /** Authors whose column differed from COUNT(*) (all repaired). */
  columnDrift: number;
  /**
   * Authors whose Redis hash was missing, older than the column or corrupted while nothing for
   * them waited in the outbox (lag is not drift), repaired; orphaned keys included.
   */
  redisDrift: number;
  /** Authors whose count is not computed (NULL): backfill's work, not drift. */
  unknownCounts: number;
}

export interface ReconcileResult extends ReconcileProgress {
  /** The first drifting authors found (at most 100; the metric and the log have all of them). */
  drifting: ColumnDrift[];
  orphansRemoved: number;
  /** False when stopped before the end (signal). */
  complete: boolean;
}

export interface ReconcileOptions {
  afterId?: number;
  /** Authors per chunk: one statement counting their books. */
  chunkSize?: number;
  onProgress?: (progress: ReconcileProgress) => void | Promise<void>;
  /** Called for every author whose column drifted, once repaired. */
  onColumnDrift?: (drift: ColumnDrift) => void;
  signal?: AbortSignal;
}

const MAX_REPORTED = 100;

interface ColumnState {
  authorId: number;
  booksCount: number | null;
  version: number;
}

/** The Redis changes that bring a hash in line with the column; empty when it is (or is newer). */
function redisRepair(column: ColumnState, mirrored: MirroredCount | undefined, keyExists: boolean): CountChange[] {
  const { authorId, booksCount, version } = column;
  if (booksCount === null) return keyExists ? [{ authorId, booksCount: null, version }] : [];
  if (!mirrored) return [{ authorId, booksCount, version }];
  if (mirrored.version > version) return [];
  if (mirrored.version < version) return [{ authorId, booksCount, version }];
  // Same version, different count: written by hand. Remove it (the guard allows that at this
  // version) and write it again; the API falls back to the column in between.
  return mirrored.booksCount === booksCount ? [] : [{ authorId, booksCount: null, version }, { authorId, booksCount, version }];
}

export async function reconcileOnce(context: RelayContext, options: ReconcileOptions = {}): Promise<ReconcileResult> {
  const chunkSize = options.chunkSize ?? 200;
  const progress: ReconcileProgress = { scanned: 0, afterId: options.afterId ?? 0, columnDrift: 0, redisDrift: 0, unknownCounts: 0 };
  const drifting: ColumnDrift[] = [];
  let complete = false;

  while (!options.signal?.aborted) {
    const rows = await compareCounts(context.pool, { afterId: progress.afterId, limit: chunkSize });
    if (rows.length === 0) {
      complete = true;
      break;
    }
    const columns = new Map<number, ColumnState>(rows.map((row) => [row.authorId, row]));
    const driftingIds = rows.filter((row) => row.booksCount !== null && row.booksCount !== row.actualCount).map((row) => row.authorId);
    for (const refreshed of await refreshBooksCounts(context.pool, driftingIds)) {
      columns.set(refreshed.authorId, refreshed);
      if (!refreshed.changed || refreshed.previousCount === null) continue;
      const drift = { authorId: refreshed.authorId, column: refreshed.previousCount, actual: refreshed.booksCount, version: refreshed.version };
      progress.columnDrift += 1;
      if (drifting.length < MAX_REPORTED) drifting.push(drift);
      options.onColumnDrift?.(drift);
    }
    progress.unknownCounts += rows.filter((row) => columns.get(row.authorId)!.booksCount === null).length;

    const authorIds = [...columns.keys()];
    // The outbox before Redis: a change of the snapshot that is no longer waiting was mirrored
    // already, so a hash still behind it after that is drift, not lag.
    const pending = await authorsWithPendingChanges(context.pool, authorIds);
    const [mirrored, exists] = await Promise.all([
      Promise.all(authorIds.map((id) => readMirroredCount(context.redis, context.keys, id))),
      Promise.all(authorIds.map((id) => context.redis.exists(context.keys.author(id)))),
    ]);
    const repairs = authorIds.map((id, index) => redisRepair(columns.get(id)!, mirrored[index], exists[index] === 1));
    const needRepair = authorIds.filter((_, index) => repairs[index]!.length > 0);
    if (needRepair.length > 0) {
      await mirrorCounts(context.redis, context.keys, repairs.flat());
      progress.redisDrift += needRepair.filter((id) => !pending.has(id)).length;
    }

    progress.scanned += rows.length;
    progress.afterId = rows[rows.length - 1]!.authorId;
    await options.onProgress?.({ ...progress });
    if (rows.length < chunkSize) {
      complete = true;
      break;
    }
  }
  const orphansRemoved = complete ? await removeOrphanKeys(context) : 0;
  progress.redisDrift += orphansRemoved;
  return { ...progress, drifting, orphansRemoved, complete };
}
