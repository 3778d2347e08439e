import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../test/support/database.js';
import { addBooks, authorState, createAuthors } from './helpers.js';

const db = useTestDatabase();

describe('applications cannot overwrite books_count (database guard)', () => {
  it('renaming an author keeps its count and version', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, a!, 3);
    const before = await authorState(db.pool, a!);
    await db.pool.query(`UPDATE author SET name = 'Renamed' WHERE id = $1`, [a]);
    expect(await authorState(db.pool, a!)).toEqual(before);
  });

  it('an ORM saving the whole row with a stale count renames but keeps the exact count', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, a!, 2);
    // The seed's pitfall: load the row, books are added meanwhile, save every column back.
    const { rows } = await db.pool.query('SELECT * FROM author WHERE id = $1', [a]);
    const stale = rows[0];
    await addBooks(db.pool, a!, 5);
    await db.pool.query(
      'UPDATE author SET name = $2, books_count = $3, books_count_version = $4 WHERE id = $1',
      [a, 'Saved whole', stale.books_count, stale.books_count_version],
    );
    const after = await authorState(db.pool, a!);
    expect(after).toMatchObject({ count: 7, actual: 7 });
    const { rows: named } = await db.pool.query('SELECT name FROM author WHERE id = $1', [a]);
    expect(named[0].name).toBe('Saved whole');
  });

  it('a direct UPDATE of books_count or its version changes nothing', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, a!, 1);
    const before = await authorState(db.pool, a!);
    await db.pool.query('UPDATE author SET books_count = 1000, books_count_version = 999999999 WHERE id = $1', [a]);
    await db.pool.query('UPDATE author SET books_count = NULL WHERE id = $1', [a]);
    expect(await authorState(db.pool, a!)).toEqual(before);
  });

  it('the guard also holds inside functions and DO blocks the application runs', async () => {
    const [a] = await createAuthors(db.pool, 1);
    const before = await authorState(db.pool, a!);
    await db.pool.query(`DO $$ BEGIN UPDATE author SET books_count = 77 WHERE id = ${a}; END $$`);
    expect(await authorState(db.pool, a!)).toEqual(before);
  });

  it('setting tally.maintenance in a session is not needed by, nor leaked from, the maintenance functions', async () => {
    const [a] = await createAuthors(db.pool, 1);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT * FROM tally.refresh_books_counts(ARRAY[$1]::bigint[])', [a]);
      // The function's SET clause is undone when it returns: the rest of the transaction is guarded.
      const { rows } = await client.query(`SELECT current_setting('tally.maintenance', true) AS value`);
      expect(rows[0].value === '' || rows[0].value === null || rows[0].value === 'off').toBe(true);
      await client.query('UPDATE author SET books_count = 55 WHERE id = $1', [a]);
      expect((await authorState(client, a!)).count).toBe(0);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  });
});
