// Which authors still have a change waiting in the outbox: a count that Redis has not caught up
// with yet is lag (the relay will mirror it), not drift. Used by `tally counts verify`.
import type { Queryable } from './pool.js';

/**
 * The authors among `authorIds` with at least one outbox row not yet mirrored. Rows a relay has
 * claimed but not committed still count as pending: until that commit, Redis may lack them.
 */
export async function authorsWithPendingChanges(db: Queryable, authorIds: readonly number[]): Promise<Set<number>> {
  if (authorIds.length === 0) return new Set();
  const { rows } = await db.query<{ author_id: number }>({
    name: 'tally_authors_with_pending_changes',
    text: 'SELECT DISTINCT author_id FROM tally.count_outbox WHERE author_id = ANY ($1::bigint[])',
    values: [authorIds],
  });
  return new Set(rows.map((row) => row.author_id));
}
