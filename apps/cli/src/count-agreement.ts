// Whether an author's three counts agree: the column against COUNT(*), and Redis against the
// column. Redis is asynchronous, so a Redis count behind the column is only drift when no change
// is waiting in the outbox: otherwise the relay will mirror it (lag, bounded by the heartbeat).
//
// The inputs must be read in this order: column and COUNT in one snapshot, then the outbox, then
// Redis. The relay deletes an outbox row only after Redis acknowledged it, so when no row of the
// author was pending, Redis already held at least the column's version.
import type { MirroredCount } from '@tally/cache';
import type { CountComparison } from '@tally/db';

export type ColumnState =
  /** The column equals COUNT(*). */
  | 'exact'
  /** NULL: not computed yet; `tally counts backfill` computes it. */
  | 'not-computed'
  /** The column differs from COUNT(*): writes bypassed the triggers. */
  | 'drift';

export type RedisState =
  /** Same version and count as the column. */
  | 'in-sync'
  /** No key, and none expected (count not computed). */
  | 'absent'
  /** Behind the column, with a change still in the outbox: the relay will catch up. */
  | 'catching-up'
  /** A newer version than the column snapshot: a write landed in between; fine. */
  | 'newer'
  /** Drift: the key is missing although nothing is pending (Redis lost it). */
  | 'missing'
  /** Drift: an older version than the column and nothing pending. */
  | 'stale'
  /** Drift: the column's version with another count (a write behind the mirror's back). */
  | 'wrong-count';

const REDIS_DRIFT: ReadonlySet<RedisState> = new Set(['missing', 'stale', 'wrong-count']);

export interface AuthorCounts extends CountComparison {
  /** The mirrored count, undefined when Redis has no entry. */
  redis: MirroredCount | undefined;
  /** Whether the outbox held a change of this author when Redis was read. */
  pending: boolean;
}

export interface Agreement {
  column: ColumnState;
  redis: RedisState;
  /** True when neither the column nor Redis drifts. */
  agrees: boolean;
}

export function columnState(counts: CountComparison): ColumnState {
  if (counts.booksCount === null) return 'not-computed';
  return counts.booksCount === counts.actualCount ? 'exact' : 'drift';
}

export function redisState(counts: AuthorCounts): RedisState {
  const { redis, version, booksCount, pending } = counts;
  if (redis && redis.version > version) return 'newer';
  if (redis && redis.version === version) {
    return booksCount !== null && redis.booksCount === booksCount ? 'in-sync' : 'wrong-count';
  }
  if (pending) return 'catching-up';
  if (!redis) return booksCount === null ? 'absent' : 'missing';
  return 'stale';
}

export function judge(counts: AuthorCounts): Agreement {
  const column = columnState(counts);
  const redis = redisState(counts);
  return { column, redis, agrees: column !== 'drift' && !REDIS_DRIFT.has(redis) };
}

export const isRedisDrift = (state: RedisState): boolean => REDIS_DRIFT.has(state);
