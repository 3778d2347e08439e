// The total number of books, from the counters: the sum of every author's books_count. Exact in
// its snapshot like each column is, and cheap while authors are few next to books; it only stands
// for COUNT(*) when no author's count is unknown (NULL).
import type { Queryable } from './pool.js';

export interface ColumnTotal {
  /** Sum of the known counts. */
  booksCount: number;
  /** Authors whose count is not computed yet; the sum is exact only when this is 0. */
  unknownAuthors: number;
}

export async function sumColumnCounts(db: Queryable): Promise<ColumnTotal> {
  const { rows } = await db.query<{ total: number; unknown: number }>({
    name: 'tally_sum_column_counts',
    text: `SELECT coalesce(sum(books_count), 0)::bigint AS total,
                  count(*) FILTER (WHERE books_count IS NULL) AS unknown
             FROM author`,
  });
  const row = rows[0]!;
  return { booksCount: row.total, unknownAuthors: row.unknown };
}
