// Writers for the worker tests: authors, books, a bounded random write storm, and writes that
// bypass the counter (to create drift).
import type { Pool } from '@tally/db';

export async function createAuthors(pool: Pool, count: number): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO author (name) SELECT 'author ' || g FROM generate_series(1, $1) g RETURNING id`,
    [count],
  );
  return rows.map((row) => row.id).sort((a, b) => a - b);
}

export async function addBooks(pool: Pool, authorId: number, count: number): Promise<void> {
  await pool.query(`INSERT INTO book (author_id, title) SELECT $1, 'book ' || g FROM generate_series(1, $2) g`, [authorId, count]);
}

/** Writes books with the counter's triggers off, as a restore or a careless bulk load would. */
export async function addBooksBehindTheCounter(pool: Pool, authorId: number, count: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query(`INSERT INTO book (author_id, title) SELECT $1, 'hidden ' || g FROM generate_series(1, $2) g`, [authorId, count]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export interface StormOptions {
  /** Upper bound on statements per writer. */
  operations: number;
  /** Concurrent writers (each holds one connection). */
  writers?: number;
  /** Stops early when aborted. */
  signal?: AbortSignal;
  /** Pause between statements, to spread a storm over a fault. */
  pauseMs?: number;
}

/**
 * Random inserts (1-5 books), deletes and moves between the given authors. Returns the number of
 * statements that committed; statements that failed (e.g. a connection killed by a test) are skipped.
 */
export async function writeStorm(pool: Pool, authorIds: readonly number[], options: StormOptions): Promise<number> {
  const pick = () => authorIds[Math.floor(Math.random() * authorIds.length)]!;
  let committed = 0;
  const writer = async () => {
    for (let i = 0; i < options.operations && !options.signal?.aborted; i += 1) {
      const roll = Math.random();
      try {
        if (roll < 0.6) {
          await pool.query(`INSERT INTO book (author_id, title) SELECT $1, 'storm' FROM generate_series(1, $2)`, [pick(), 1 + Math.floor(Math.random() * 5)]);
        } else if (roll < 0.85) {
          await pool.query('DELETE FROM book WHERE id = (SELECT id FROM book WHERE author_id = $1 ORDER BY id DESC LIMIT 1)', [pick()]);
        } else {
          await pool.query('UPDATE book SET author_id = $2 WHERE id = (SELECT id FROM book WHERE author_id = $1 ORDER BY id LIMIT 1)', [pick(), pick()]);
        }
        committed += 1;
      } catch {
        // A fault injected by the test; the database is the truth either way.
      }
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: options.writers ?? 2 }, writer));
  return committed;
}
