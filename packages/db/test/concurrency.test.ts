import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../test/support/database.js';
import { isRetryableTransactionError, pgErrorCode } from '../src/errors.js';
import { createPool, type Pool } from '../src/pool.js';
import { addBooks, addBooksBehindTheCounter, authorState, clearOutbox, createAuthors, driftingAuthors, outboxRows } from './helpers.js';

const db = useTestDatabase();

/** A pool of `size` connections for concurrent writers, closed by the caller. */
function writers(size: number): Pool {
  return createPool(db.url, { max: size, applicationName: 'concurrency-test-writer' });
}

/** Resolves once `parties` callers have arrived. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const open = new Promise<void>((resolve) => (release = resolve));
  return async () => {
    arrived += 1;
    if (arrived === parties) release();
    await open;
  };
}

describe('counts stay exact under concurrent writers', () => {
  it('8 writers inserting and deleting on one author give the exact count with distinct, growing versions', async () => {
    const [hot] = await createAuthors(db.pool, 1);
    await clearOutbox(db.pool);
    const pool = writers(8);
    try {
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = 0; i < 40; i += 1) {
            await addBooks(pool, hot!, 1);
            if (i % 4 === 3) await pool.query('DELETE FROM book WHERE id = (SELECT min(id) FROM book WHERE author_id = $1)', [hot]);
          }
        }),
      );
    } finally {
      await pool.end();
    }
    const state = await authorState(db.pool, hot!);
    expect(state.count).toBe(state.actual);
    expect(state.actual).toBeGreaterThanOrEqual(8 * 30);
    const versions = (await outboxRows(db.pool)).map((row) => row.books_count_version);
    // Outbox rows are in insertion order; each change of the author got its own version.
    expect(new Set(versions).size).toBe(versions.length);
    expect(Math.max(...versions)).toBe(state.version);
  });

  it('8 transactions making the first touch of a NULL author at once neither deadlock nor miscount', async () => {
    const [legacy] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, legacy!, 100);
    await db.pool.query('SELECT tally.forget_books_counts(ARRAY[$1]::bigint[])', [legacy]);
    const pool = writers(8);
    const allHoldKeyShare = barrier(8);
    const failures: unknown[] = [];
    try {
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            // The FOR KEY SHARE lock a foreign-key check takes, held by every transaction before
            // any of them counts: a counter that locked the author FOR UPDATE would deadlock here.
            await client.query('SELECT 1 FROM author WHERE id = $1 FOR KEY SHARE', [legacy]);
            await allHoldKeyShare();
            await addBooks(client, legacy!, 3);
            await client.query('COMMIT');
          } catch (error) {
            failures.push(pgErrorCode(error) ?? error);
            await client.query('ROLLBACK');
          } finally {
            client.release();
          }
        }),
      );
    } finally {
      await pool.end();
    }
    expect(failures).toEqual([]);
    expect(await authorState(db.pool, legacy!)).toMatchObject({ count: 124, actual: 124 });
  });

  it('a writer that waited while its author\'s count was forgotten counts what is committed by then', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, a!, 10);
    const pool = writers(2);
    const forgetting = await pool.connect();
    try {
      await forgetting.query('BEGIN');
      await forgetting.query('SELECT tally.forget_books_counts(ARRAY[$1]::bigint[])', [a]); // holds the row
      // This writer's statement takes its snapshot now, then waits for the row lock.
      const late = addBooks(pool, a!, 1);
      for (let attempt = 0; ; attempt += 1) {
        const { rows } = await db.pool.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (rows[0].n === 1) break;
        if (attempt > 100) throw new Error('the writer never waited for the row lock');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // A book committed after that snapshot (behind the counter, so it takes no lock).
      await addBooksBehindTheCounter(db.pool, a!, 1);
      await forgetting.query('COMMIT');
      await late;
    } finally {
      forgetting.release();
      await pool.end();
    }
    // The writer found the count NULL and had to COUNT: in its old snapshot it would see 11 books.
    expect(await authorState(db.pool, a!)).toMatchObject({ count: 12, actual: 12 });
  });

  it('REPEATABLE READ writers that retry serialization failures end with the exact count', async () => {
    const [a] = await createAuthors(db.pool, 1);
    const pool = writers(4);
    try {
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = 0; i < 15; i += 1) {
            for (let attempt = 0; ; attempt += 1) {
              const client = await pool.connect();
              try {
                await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
                await addBooks(client, a!, 2);
                await client.query('COMMIT');
                break;
              } catch (error) {
                await client.query('ROLLBACK');
                if (!isRetryableTransactionError(error) || attempt > 50) throw error;
              } finally {
                client.release();
              }
            }
          }
        }),
      );
    } finally {
      await pool.end();
    }
    expect(await authorState(db.pool, a!)).toMatchObject({ count: 120, actual: 120 });
  });

  it('statements touching the same authors in opposite orders do not deadlock (ascending lock order)', async () => {
    const [a, b] = await createAuthors(db.pool, 2);
    await addBooks(db.pool, a!, 20);
    await addBooks(db.pool, b!, 20);
    const pool = writers(2);
    const errors: string[] = [];
    const loop = async (first: number, second: number) => {
      for (let i = 0; i < 60; i += 1) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          // Rows listed in opposite orders, and books moved in opposite directions.
          await client.query(`INSERT INTO book (author_id, title) VALUES ($1, 'x'), ($2, 'y')`, [first, second]);
          await client.query(
            'UPDATE book SET author_id = $2 WHERE id = (SELECT min(id) FROM book WHERE author_id = $1)',
            [first, second],
          );
          await client.query('COMMIT');
        } catch (error) {
          errors.push(pgErrorCode(error) ?? String(error));
          await client.query('ROLLBACK');
        } finally {
          client.release();
        }
      }
    };
    try {
      await Promise.all([loop(a!, b!), loop(b!, a!)]);
    } finally {
      await pool.end();
    }
    expect(errors).toEqual([]);
    expect(await driftingAuthors(db.pool)).toEqual([]);
    expect((await authorState(db.pool, a!)).actual + (await authorState(db.pool, b!)).actual).toBe(40 + 240);
  });
});
