// The count outbox, from the relay's side: claim a batch, learn each author's current state, and
// delete the rows only when the caller's transaction commits (after Redis acknowledged).
import type { PoolClient, Queryable } from './pool.js';

/** NOTIFY channel the triggers signal on commit; the payload is empty, the outbox is the truth. */
export const OUTBOX_CHANNEL = 'tally_outbox';

export interface ClaimedAuthor {
  authorId: number;
  /** Outbox rows for this author in the batch (informational: many changes, one Redis write). */
  events: number;
  /** Highest version any claimed row recorded; for a deleted author, its last version. */
  queuedVersion: number;
  /** When the oldest claimed row for this author was written (close to its commit). */
  oldestQueuedAt: Date;
  /** How long that row had waited when it was claimed, by the database clock. */
  waitedMs: number;
  /** The author's current state, read after the claim; null when the author no longer exists. */
  current: { booksCount: number | null; version: number } | null;
}

/**
 * Claims up to `limit` outbox rows with FOR UPDATE SKIP LOCKED (so relays share the outbox), deletes
 * them inside the caller's open transaction and returns one entry per author, ordered by id.
 *
 * The current state is read in the same statement, after the rows were committed, so it is at least
 * as new as every claimed change. It is read FOR KEY SHARE: that does not block count writers, but
 * makes a concurrent DELETE of the author wait until this transaction ends, so the removal of a key
 * can never be overtaken by a stale write of the same author from this batch.
 * Roll the transaction back when Redis fails and the rows become claimable again.
 */
export async function claimOutboxBatch(client: PoolClient, limit: number): Promise<ClaimedAuthor[]> {
  const { rows } = await client.query<{
    author_id: number;
    events: number;
    queued_version: number;
    oldest: Date;
    waited_ms: number;
    books_count: number | null;
    books_count_version: number | null;
  }>({
    name: 'tally_claim_outbox_batch',
    text: `WITH claimed AS (
             DELETE FROM tally.count_outbox o
              WHERE o.id IN (SELECT id FROM tally.count_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING o.author_id, o.books_count_version, o.created_at
           ), per_author AS (
             SELECT author_id, count(*) AS events, max(books_count_version) AS queued_version,
                    min(created_at) AS oldest
               FROM claimed GROUP BY author_id
           )
           SELECT p.author_id, p.events, p.queued_version, p.oldest,
                  greatest(0, extract(epoch FROM clock_timestamp() - p.oldest) * 1000)::float8 AS waited_ms,
                  a.books_count, a.books_count_version
             FROM per_author p
             LEFT JOIN LATERAL (
               SELECT books_count, books_count_version FROM author WHERE id = p.author_id FOR KEY SHARE
             ) a ON true
            ORDER BY p.author_id`,
    values: [limit],
  });
  return rows.map((row) => ({
    authorId: row.author_id,
    events: row.events,
    queuedVersion: row.queued_version,
    oldestQueuedAt: row.oldest,
    waitedMs: row.waited_ms,
    current:
      row.books_count_version === null ? null : { booksCount: row.books_count, version: row.books_count_version },
  }));
}

export interface OutboxBacklog {
  /** Rows waiting, counted up to `cap` (a backlog past it reports the cap). */
  pending: number;
  /** Age of the oldest waiting row in milliseconds, by the database's clock; 0 when empty. */
  oldestAgeMs: number;
}

/** How much the relay has left to do. Ages use the database clock only, so hosts may disagree on time. */
export async function readOutboxBacklog(db: Queryable, cap = 1_000_000): Promise<OutboxBacklog> {
  const { rows } = await db.query<{ pending: number; oldest_age_ms: number | null }>({
    name: 'tally_read_outbox_backlog',
    text: `SELECT (SELECT count(*) FROM (SELECT 1 FROM tally.count_outbox LIMIT $1) capped) AS pending,
                  (SELECT (extract(epoch FROM clock_timestamp() - created_at) * 1000)::float8
                     FROM tally.count_outbox ORDER BY id LIMIT 1) AS oldest_age_ms`,
    values: [cap],
  });
  const row = rows[0]!;
  return { pending: row.pending, oldestAgeMs: Math.max(0, row.oldest_age_ms ?? 0) };
}
