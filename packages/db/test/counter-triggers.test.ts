import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../test/support/database.js';
import { addBooks, authorState, clearOutbox, createAuthors, driftingAuthors, outboxRows } from './helpers.js';

const db = useTestDatabase();

describe('the counter keeps author.books_count exact in the writing transaction', () => {
  it('new authors start at 0 books with a version, whatever the INSERT says', async () => {
    const { rows } = await db.pool.query<{ id: number; books_count: number; books_count_version: number }>(
      `INSERT INTO author (name, books_count, books_count_version) VALUES ('Ann', 42, 999999) RETURNING *`,
    );
    expect(rows[0]!.books_count).toBe(0);
    expect(rows[0]!.books_count_version).toBeGreaterThan(0);
    expect(rows[0]!.books_count_version).toBeLessThan(999999);
  });

  it('a bulk INSERT ... SELECT updates each author once, with one version step and one outbox row', async () => {
    const [a, b] = await createAuthors(db.pool, 2);
    const before = [await authorState(db.pool, a!), await authorState(db.pool, b!)];
    await clearOutbox(db.pool);
    await db.pool.query(
      `INSERT INTO book (author_id, title)
       SELECT CASE WHEN g % 3 = 0 THEN $1 ELSE $2 END::bigint, 'bulk ' || g FROM generate_series(1, 3000) g`,
      [a, b],
    );
    const after = [await authorState(db.pool, a!), await authorState(db.pool, b!)];
    expect(after.map((s) => s.count)).toEqual([1000, 2000]);
    expect(after.map((s) => s.actual)).toEqual([1000, 2000]);
    const outbox = (await outboxRows(db.pool)).sort((x, y) => x.author_id - y.author_id);
    expect(outbox.map((row) => row.author_id)).toEqual([a, b]);
    // One version per author per statement, and it is the version the outbox row records.
    expect(outbox.map((row) => row.books_count_version)).toEqual(after.map((s) => s.version));
    expect(after[0]!.version).toBeGreaterThan(before[0]!.version);
  });

  it('deleting books decrements their authors', async () => {
    const [a, b] = await createAuthors(db.pool, 2);
    await addBooks(db.pool, a!, 10);
    await addBooks(db.pool, b!, 5);
    await db.pool.query('DELETE FROM book WHERE id IN (SELECT id FROM book WHERE author_id = $1 ORDER BY id LIMIT 4)', [a]);
    await db.pool.query('DELETE FROM book WHERE author_id = $1', [b]);
    expect(await authorState(db.pool, a!)).toMatchObject({ count: 6, actual: 6 });
    expect(await authorState(db.pool, b!)).toMatchObject({ count: 0, actual: 0 });
  });

  it('moving a book decrements the old author and increments the new', async () => {
    const [from, to] = await createAuthors(db.pool, 2);
    await addBooks(db.pool, from!, 3);
    await db.pool.query('UPDATE book SET author_id = $2 WHERE id = (SELECT min(id) FROM book WHERE author_id = $1)', [from, to]);
    expect(await authorState(db.pool, from!)).toMatchObject({ count: 2, actual: 2 });
    expect(await authorState(db.pool, to!)).toMatchObject({ count: 1, actual: 1 });
  });

  it('moves in both directions in one statement net out per author', async () => {
    const [a, b] = await createAuthors(db.pool, 2);
    await addBooks(db.pool, a!, 5);
    await addBooks(db.pool, b!, 2);
    // Swap every book: a's 5 go to b and b's 2 go to a, in a single UPDATE.
    await db.pool.query(
      'UPDATE book SET author_id = CASE WHEN author_id = $1 THEN $2::bigint ELSE $1::bigint END WHERE author_id IN ($1, $2)',
      [a, b],
    );
    expect(await authorState(db.pool, a!)).toMatchObject({ count: 2, actual: 2 });
    expect(await authorState(db.pool, b!)).toMatchObject({ count: 5, actual: 5 });
  });

  it('an UPDATE that moves nothing changes no count, no version and queues nothing', async () => {
    const [a, b] = await createAuthors(db.pool, 2);
    await addBooks(db.pool, a!, 4);
    const before = await authorState(db.pool, a!);
    await clearOutbox(db.pool);
    await db.pool.query(`UPDATE book SET title = title || ' (2nd ed.)' WHERE author_id = $1`, [a]);
    // Equal numbers of books moving both ways between the same two authors also net to zero.
    await addBooks(db.pool, b!, 1);
    await clearOutbox(db.pool);
    await db.pool.query(
      `UPDATE book SET author_id = CASE WHEN author_id = $1 THEN $2::bigint ELSE $1::bigint END
        WHERE id IN ((SELECT min(id) FROM book WHERE author_id = $1), (SELECT min(id) FROM book WHERE author_id = $2))`,
      [a, b],
    );
    expect(await authorState(db.pool, a!)).toEqual(before);
    expect(await outboxRows(db.pool)).toEqual([]);
  });

  it('a rolled-back transaction changes no count and leaves no outbox row', async () => {
    const [a] = await createAuthors(db.pool, 1);
    const before = await authorState(db.pool, a!);
    await clearOutbox(db.pool);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await addBooks(client, a!, 7);
      expect((await authorState(client, a!)).count).toBe(7);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await authorState(db.pool, a!)).toEqual(before);
    expect(await outboxRows(db.pool)).toEqual([]);
  });

  it('a savepoint rolled back inside a committed transaction keeps only the rest', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await clearOutbox(db.pool);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await addBooks(client, a!, 2);
      await client.query('SAVEPOINT undo_me');
      await addBooks(client, a!, 5);
      await client.query('ROLLBACK TO SAVEPOINT undo_me');
      await addBooks(client, a!, 1);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await authorState(db.pool, a!)).toMatchObject({ count: 3, actual: 3 });
    // The rolled-back savepoint's outbox row went with it.
    expect((await outboxRows(db.pool)).length).toBe(2);
  });

  it('deleting an author cascades to its books and queues the author with its last version', async () => {
    const [doomed, other] = await createAuthors(db.pool, 2);
    await addBooks(db.pool, doomed!, 6);
    await addBooks(db.pool, other!, 1);
    const last = await authorState(db.pool, doomed!);
    await clearOutbox(db.pool);
    await db.pool.query('DELETE FROM author WHERE id = $1', [doomed]);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM book WHERE author_id = $1', [doomed]);
    expect(rows[0].n).toBe(0);
    expect(await outboxRows(db.pool)).toEqual([{ author_id: doomed, books_count_version: last.version }]);
    expect(await authorState(db.pool, other!)).toMatchObject({ count: 1 });
  });

  it('TRUNCATE book sets every count to 0 with new versions and queues them', async () => {
    const [a, b] = await createAuthors(db.pool, 2);
    await addBooks(db.pool, a!, 3);
    await addBooks(db.pool, b!, 4);
    const before = await authorState(db.pool, a!);
    await clearOutbox(db.pool);
    await db.pool.query('TRUNCATE book');
    const after = await authorState(db.pool, a!);
    expect(after).toMatchObject({ count: 0, actual: 0 });
    expect(after.version).toBeGreaterThan(before.version);
    expect(await driftingAuthors(db.pool)).toEqual([]);
    expect((await outboxRows(db.pool)).map((row) => row.author_id)).toEqual(expect.arrayContaining([a, b]));
  });

  it('TRUNCATE author CASCADE queues every author so their Redis keys go too', async () => {
    const client = await db.pool.connect();
    try {
      // Inside a rolled-back transaction, so the other tests' authors survive.
      await client.query('BEGIN');
      const { rows: authors } = await client.query<{ id: number }>('SELECT id FROM author ORDER BY id');
      await client.query('DELETE FROM tally.count_outbox');
      await client.query('TRUNCATE author CASCADE');
      const queued = await outboxRows(client);
      expect(new Set(queued.map((row) => row.author_id))).toEqual(new Set(authors.map((row) => row.id)));
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('a NULL count is computed with COUNT the first time a write touches the author', async () => {
    const [legacy] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, legacy!, 12);
    await db.pool.query('SELECT tally.forget_books_counts(ARRAY[$1]::bigint[])', [legacy]);
    expect((await authorState(db.pool, legacy!)).count).toBeNull();
    await addBooks(db.pool, legacy!, 1);
    expect(await authorState(db.pool, legacy!)).toMatchObject({ count: 13, actual: 13 });

    await db.pool.query('SELECT tally.forget_books_counts(ARRAY[$1]::bigint[])', [legacy]);
    await db.pool.query('DELETE FROM book WHERE id = (SELECT max(id) FROM book WHERE author_id = $1)', [legacy]);
    expect(await authorState(db.pool, legacy!)).toMatchObject({ count: 12, actual: 12 });
  });

  it('moving books into an author whose count is NULL computes it exactly', async () => {
    const [from, legacy] = await createAuthors(db.pool, 2);
    await addBooks(db.pool, from!, 3);
    await addBooks(db.pool, legacy!, 4);
    await db.pool.query('SELECT tally.forget_books_counts(ARRAY[$1]::bigint[])', [legacy]);
    await db.pool.query('UPDATE book SET author_id = $2 WHERE author_id = $1', [from, legacy]);
    expect(await authorState(db.pool, legacy!)).toMatchObject({ count: 7, actual: 7 });
    expect(await authorState(db.pool, from!)).toMatchObject({ count: 0, actual: 0 });
  });

  it('versions only grow, even when TRUNCATE ... RESTART IDENTITY reuses author ids', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const [old] = (await client.query<{ id: number }>(`INSERT INTO author (name) VALUES ('old') RETURNING id`)).rows;
      await addBooks(client, old!.id, 2);
      const oldVersion = (await authorState(client, old!.id)).version;
      await client.query('TRUNCATE author RESTART IDENTITY CASCADE');
      const [reborn] = (await client.query<{ id: number }>(`INSERT INTO author (name) VALUES ('new') RETURNING id`)).rows;
      expect(reborn!.id).toBe(1);
      expect((await authorState(client, reborn!.id)).version).toBeGreaterThan(oldVersion);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('every count is exact after all the writes above', async () => {
    expect(await driftingAuthors(db.pool)).toEqual([]);
  });
});
