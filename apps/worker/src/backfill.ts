// Computes counts that are not computed yet (NULL: authors that predate the counter, or counts an
// operator forgot), in chunks, through tally.refresh_books_counts(), which is exact while writers
// continue. Resumable: it works in id order and reports the last id done, which the BullMQ job
// stores so a retry skips finished chunks (and a finished chunk is no longer NULL anyway).
import { mirrorCounts } from '@tally/cache';
import { authorsWithUnknownCount, countAuthorsWithUnknownCount, refreshBooksCounts } from '@tally/db';
import type { RelayContext } from './outbox-relay.js';

export interface BackfillProgress {
  /** Counts computed so far in this run. */
  computed: number;
  /** The last author id done; resume after it. */
  afterId: number;
  /** Authors this run expects to handle in total (NULL counts at the start, or the ids given). */
  total: number;
}

export interface BackfillOptions {
  /** Only these authors (the API's single-author jobs); all NULL counts when absent. */
  authorIds?: readonly number[];
  /** Resume after this author id. */
  afterId?: number;
  /** Authors per chunk: one COUNT each, in one transaction. */
  chunkSize?: number;
  onProgress?: (progress: BackfillProgress) => void | Promise<void>;
  /** Stops between chunks. */
  signal?: AbortSignal;
}

export type BackfillResult = BackfillProgress;

/** Ids after `afterId`, ascending, without duplicates. */
function pendingIds(authorIds: readonly number[], afterId: number): number[] {
  return [...new Set(authorIds)].filter((id) => id > afterId).sort((a, b) => a - b);
}

export async function runBackfill(context: RelayContext, options: BackfillOptions = {}): Promise<BackfillResult> {
  const chunkSize = options.chunkSize ?? 100;
  const explicit = options.authorIds && pendingIds(options.authorIds, options.afterId ?? 0);
  const progress: BackfillProgress = {
    computed: 0,
    afterId: options.afterId ?? 0,
    total: explicit ? explicit.length : await countAuthorsWithUnknownCount(context.pool),
  };
  for (let offset = 0; !options.signal?.aborted; offset += chunkSize) {
    const chunk = explicit
      ? explicit.slice(offset, offset + chunkSize)
      : await authorsWithUnknownCount(context.pool, { afterId: progress.afterId, limit: chunkSize });
    if (chunk.length === 0) break;
    const refreshed = await refreshBooksCounts(context.pool, chunk);
    // The refresh queued outbox rows for the relay too; mirroring here makes the counts usable at
    // once, and the version guard makes the relay's later write of the same version a no-op.
    await mirrorCounts(
      context.redis,
      context.keys,
      refreshed.map((count) => ({ authorId: count.authorId, booksCount: count.booksCount, version: count.version })),
    );
    progress.computed += refreshed.filter((count) => count.previousCount === null).length;
    progress.afterId = chunk[chunk.length - 1]!;
    await options.onProgress?.({ ...progress });
    if (chunk.length < chunkSize) break;
  }
  return { ...progress };
}
