// Reads a chunk of authors' counts from all three places, in the order count-agreement.ts needs.
import { readMirroredCount, type RedisClient, type RedisKeys } from '@tally/cache';
import { authorsWithPendingChanges, compareCounts, type Queryable } from '@tally/db';
import type { AuthorCounts } from './count-agreement.js';

export async function readAuthorCounts(
  db: Queryable,
  redis: RedisClient,
  keys: RedisKeys,
  page: { afterId: number; limit: number },
): Promise<AuthorCounts[]> {
  const compared = await compareCounts(db, page);
  const ids = compared.map((row) => row.authorId);
  const pending = await authorsWithPendingChanges(db, ids);
  // Sent back to back on one connection: one round trip's worth of latency for the whole chunk.
  const mirrored = await Promise.all(ids.map((id) => readMirroredCount(redis, keys, id)));
  return compared.map((row, index) => ({ ...row, redis: mirrored[index], pending: pending.has(row.authorId) }));
}
