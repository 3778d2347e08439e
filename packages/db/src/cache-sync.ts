// A query the worker needs to keep Redis in step with the column beyond the outbox: which authors
// still exist (orphaned Redis keys).
import type { Queryable } from './pool.js';

/** Which of these author ids exist. */
export async function existingAuthorIds(db: Queryable, authorIds: readonly number[]): Promise<Set<number>> {
  if (authorIds.length === 0) return new Set();
  const { rows } = await db.query<{ id: number }>({
    name: 'tally_existing_author_ids',
    text: 'SELECT id FROM author WHERE id = ANY ($1::bigint[])',
    values: [authorIds],
  });
  return new Set(rows.map((row) => row.id));
}
