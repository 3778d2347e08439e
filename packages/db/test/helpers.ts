import type { Pool, PoolClient } from '../src/pool.js';

export interface AuthorState {
  count: number | null;
  version: number;
  /** COUNT(*) of the author's books, read in the same statement. */
  actual: number;
}

export async function createAuthors(pool: Pool, count: number, prefix = 'author'): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO author (name) SELECT $2 || ' ' || g FROM generate_series(1, $1) g RETURNING id`,
    [count, prefix],
  );
  return rows.map((row) => row.id).sort((a, b) => a - b);
}

export async function addBooks(db: Pool | PoolClient, authorId: number, count: number): Promise<void> {
  await db.query(`INSERT INTO book (author_id, title) SELECT $1, 'book ' || g FROM generate_series(1, $2) g`, [authorId, count]);
}

export async function authorState(db: Pool | PoolClient, authorId: number): Promise<AuthorState> {
  const { rows } = await db.query<{ books_count: number | null; books_count_version: number; actual: number }>(
    `SELECT books_count, books_count_version, (SELECT count(*) FROM book WHERE author_id = a.id) AS actual
       FROM author a WHERE id = $1`,
    [authorId],
  );
  const row = rows[0];
  if (!row) throw new Error(`author ${authorId} does not exist`);
  return { count: row.books_count, version: row.books_count_version, actual: row.actual };
}

/** Authors whose column differs from COUNT(*); empty when every count is exact. */
export async function driftingAuthors(db: Pool | PoolClient): Promise<Array<{ id: number; column: number | null; actual: number }>> {
  const { rows } = await db.query<{ id: number; books_count: number | null; actual: number }>(
    `SELECT a.id, a.books_count, (SELECT count(*) FROM book b WHERE b.author_id = a.id) AS actual
       FROM author a ORDER BY a.id`,
  );
  return rows
    .filter((row) => row.books_count !== row.actual)
    .map((row) => ({ id: row.id, column: row.books_count, actual: row.actual }));
}

export async function outboxRows(db: Pool | PoolClient): Promise<Array<{ author_id: number; books_count_version: number }>> {
  const { rows } = await db.query<{ author_id: number; books_count_version: number }>(
    'SELECT author_id, books_count_version FROM tally.count_outbox ORDER BY id',
  );
  return rows;
}

export async function clearOutbox(db: Pool | PoolClient): Promise<void> {
  await db.query('DELETE FROM tally.count_outbox');
}

/** Writes books with the counter's triggers off, as a restore or a careless bulk load would. */
export async function addBooksBehindTheCounter(pool: Pool, authorId: number, count: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await addBooks(client, authorId, count);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}
