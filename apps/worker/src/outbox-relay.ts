// One relay batch: claim outbox rows, mirror the authors' current counts into Redis, and delete
// the rows by committing, in that order. Redis failing rolls the transaction back and the rows
// stay for the next attempt; a crash after the Redis write replays it later, which the
// version-guarded script turns into a no-op. At-least-once, never backwards.
import { mirrorCounts, type CountChange, type MirrorResult, type RedisClient, type RedisKeys } from '@tally/cache';
import { claimOutboxBatch, withTransaction, type ClaimedAuthor, type Pool } from '@tally/db';

export interface RelayContext {
  pool: Pool;
  /** A connection with the count scripts defined (createRedis does that): one server or a cluster. */
  redis: RedisClient;
  keys: RedisKeys;
}

export interface RelayBatchResult extends MirrorResult {
  /** Outbox rows claimed and deleted. */
  rows: number;
  authors: number;
  /** Per author: milliseconds from its oldest outbox row to Redis' acknowledgement. */
  lagsMs: number[];
}

/** Which step of a batch failed: the outbox side (PostgreSQL) or the mirror side (Redis). */
export class RelayBatchError extends Error {
  override readonly name = 'RelayBatchError';
  constructor(
    readonly side: 'database' | 'redis',
    message: string,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The Redis change for one claimed author. A deleted author removes its key up to its last
 * version; a count that is not computed (NULL) removes the key up to the current version, so the
 * API falls back to the column; anything else writes the current count and version.
 */
export function countChangeFor(claimed: ClaimedAuthor): CountChange {
  if (claimed.current === null) return { authorId: claimed.authorId, booksCount: null, version: claimed.queuedVersion };
  return { authorId: claimed.authorId, booksCount: claimed.current.booksCount, version: claimed.current.version };
}

const EMPTY: RelayBatchResult = Object.freeze({ rows: 0, authors: 0, written: 0, removed: 0, unchanged: 0, lagsMs: [] });

/** Relays up to `limit` outbox rows in one transaction; rows: 0 when the outbox was empty. */
export async function relayOutboxBatch(context: RelayContext, limit: number): Promise<RelayBatchResult> {
  return withTransaction(context.pool, async (client) => {
    const claimed = await claimOutboxBatch(client, limit);
    if (claimed.length === 0) return EMPTY;
    const claimedAt = performance.now();
    let mirrored: MirrorResult;
    try {
      mirrored = await mirrorCounts(context.redis, context.keys, claimed.map(countChangeFor));
    } catch (error) {
      throw new RelayBatchError(
        'redis',
        `Mirroring ${claimed.length} author count(s) to Redis failed, so the batch was rolled back and ` +
          `its outbox rows stay for the next attempt: ${String(error)}. Check that Redis is reachable and accepts writes (noeviction, memory).`,
        { cause: error },
      );
    }
    // Waited until the claim (database clock) plus the claim-to-acknowledgement time (this process'
    // monotonic clock): two durations, no comparison of clocks, no extra round trip.
    const sinceClaimMs = performance.now() - claimedAt;
    return {
      ...mirrored,
      rows: claimed.reduce((sum, author) => sum + author.events, 0),
      authors: claimed.length,
      lagsMs: claimed.map((author) => author.waitedMs + sinceClaimMs),
    };
  }).catch((error: unknown) => {
    if (error instanceof RelayBatchError) throw error;
    throw new RelayBatchError(
      'database',
      `Claiming or committing an outbox batch in PostgreSQL failed; nothing was acknowledged and the ` +
        `rows stay for the next attempt: ${String(error)}. Check DATABASE_URL and that migrations ran.`,
      { cause: error },
    );
  });
}
