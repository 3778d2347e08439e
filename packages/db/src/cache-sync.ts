// Queries the worker needs to keep Redis in step with the column beyond the outbox: the database
// clock (lag is measured on one clock) and which authors still exist (orphaned Redis keys).
import type { Queryable } from './pool.js';

/** The database server's clock now (clock_timestamp(), not the transaction's start). */
export async function readDatabaseClock(db: Queryable): Promise<Date> {
  const { rows } = await db.query<{ now: Date }>({ name: 'tally_read_database_clock', text: 'SELECT clock_timestamp() AS now' });
  return rows[0]!.now;
}

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
