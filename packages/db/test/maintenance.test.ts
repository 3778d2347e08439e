import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../test/support/database.js';
import { forgetBooksCounts, refreshBooksCounts, authorsWithUnknownCount, compareCounts } from '../src/counts.js';
import { addBooks, addBooksBehindTheCounter, authorState, clearOutbox, createAuthors, outboxRows } from './helpers.js';

const db = useTestDatabase();

describe('maintenance functions set counts only through the documented path', () => {
  it('refresh_books_counts repairs drift made behind the counter, with a new version and an outbox row', async () => {
    const [drifted, exact] = await createAuthors(db.pool, 2);
    await addBooks(db.pool, drifted!, 2);
    await addBooks(db.pool, exact!, 3);
    await addBooksBehindTheCounter(db.pool, drifted!, 4);
    const before = await authorState(db.pool, drifted!);
    expect(before).toMatchObject({ count: 2, actual: 6 });
    const exactBefore = await authorState(db.pool, exact!);
    await clearOutbox(db.pool);

    const result = await refreshBooksCounts(db.pool, [exact!, drifted!, 999_999_999]);

    expect(result).toEqual([
      expect.objectContaining({ authorId: drifted, previousCount: 2, booksCount: 6, changed: true }),
      expect.objectContaining({ authorId: exact, previousCount: 3, booksCount: 3, changed: false, version: exactBefore.version }),
    ]);
    const after = await authorState(db.pool, drifted!);
    expect(after).toMatchObject({ count: 6, actual: 6 });
    expect(after.version).toBeGreaterThan(before.version);
    expect(await outboxRows(db.pool)).toEqual([{ author_id: drifted, books_count_version: after.version }]);
    expect(await authorState(db.pool, exact!)).toEqual(exactBefore);
  });

  it('refresh_books_counts refuses REPEATABLE READ, whose snapshot would predate the lock', async () => {
    const [a] = await createAuthors(db.pool, 1);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await expect(refreshBooksCounts(client, [a!])).rejects.toMatchObject({ code: '25000' });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('refresh_books_counts stays exact while writers keep inserting and deleting', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await addBooks(db.pool, a!, 50);
    await addBooksBehindTheCounter(db.pool, a!, 25);
    let stop = false;
    let netAdded = 0;
    const writer = async () => {
      for (let i = 0; i < 200 && !stop; i += 1) {
        await addBooks(db.pool, a!, 2);
        // Two writers may pick the same newest book; only one of them deletes it.
        const { rowCount } = await db.pool.query('DELETE FROM book WHERE id = (SELECT max(id) FROM book WHERE author_id = $1)', [a]);
        netAdded += 2 - (rowCount ?? 0);
      }
    };
    const refresher = async () => {
      for (let i = 0; i < 20; i += 1) await refreshBooksCounts(db.pool, [a!]);
      stop = true;
    };
    await Promise.all([writer(), writer(), refresher()]);
    const final = await authorState(db.pool, a!);
    expect(final.actual).toBe(75 + netAdded);
    expect(final.count).toBe(final.actual);
  });

  it('forget_books_counts marks counts unknown, queues them, and the next refresh computes them', async () => {
    const [a, b] = await createAuthors(db.pool, 2);
    await addBooks(db.pool, a!, 4);
    await clearOutbox(db.pool);
    expect(await forgetBooksCounts(db.pool, [a!, b!])).toBe(2);
    expect(await forgetBooksCounts(db.pool, [a!])).toBe(0);
    expect((await authorState(db.pool, a!)).count).toBeNull();
    expect((await outboxRows(db.pool)).map((row) => row.author_id).sort((x, y) => x - y)).toEqual([a, b]);
    const unknown = await authorsWithUnknownCount(db.pool, { afterId: 0, limit: 1000 });
    expect(unknown).toEqual(expect.arrayContaining([a, b]));
    await refreshBooksCounts(db.pool, [a!, b!]);
    expect(await authorState(db.pool, a!)).toMatchObject({ count: 4, actual: 4 });
    expect(await authorState(db.pool, b!)).toMatchObject({ count: 0, actual: 0 });
  });

  it('compareCounts reads column and COUNT in one snapshot, in id chunks', async () => {
    const ids = await createAuthors(db.pool, 3);
    await addBooksBehindTheCounter(db.pool, ids[1]!, 2);
    const first = await compareCounts(db.pool, { afterId: ids[0]! - 1, limit: 2 });
    expect(first.map((row) => row.authorId)).toEqual([ids[0], ids[1]]);
    expect(first[1]).toMatchObject({ booksCount: 0, actualCount: 2 });
    const next = await compareCounts(db.pool, { afterId: ids[1]!, limit: 2 });
    expect(next[0]!.authorId).toBe(ids[2]);
  });
});
