import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../test/support/database.js';
import { claimOutboxBatch, OUTBOX_CHANNEL, readOutboxBacklog } from '../src/outbox.js';
import { createClient, withTransaction } from '../src/pool.js';
import { createRelayWakeupLock } from '../src/relay-wakeup.js';
import { addBooks, clearOutbox, createAuthors, outboxRows } from './helpers.js';

const db = useTestDatabase();

/** A raw LISTEN connection that records every notification on the outbox channel. */
async function listen(url: string) {
  const client = createClient(url, 'outbox-notify-test-listener');
  const received: string[] = [];
  client.on('notification', (message) => {
    if (message.channel === OUTBOX_CHANNEL) received.push(message.payload ?? '');
  });
  await client.connect();
  await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
  return {
    received,
    /** Lets notifications already sent arrive: a round trip on the listening connection. */
    async settle() {
      await client.query('SELECT 1');
    },
    close: () => client.end(),
  };
}

describe('the outbox and NOTIFY follow the writing transaction', () => {
  it('NOTIFY is delivered only at commit, once per transaction, with a tiny payload', async () => {
    const [a, b] = await createAuthors(db.pool, 2);
    const listener = await listen(db.url);
    // A relay waiting for changes: writers notify only then (relay-wakeup.test.ts).
    const waitingRelay = createRelayWakeupLock(db.url);
    expect(await waitingRelay.hold(1000)).toBe(true);
    const writer = await db.pool.connect();
    try {
      await writer.query('BEGIN');
      await addBooks(writer, a!, 3);
      await addBooks(writer, b!, 1000);
      await writer.query(`DELETE FROM book WHERE id = (SELECT min(id) FROM book WHERE author_id = $1)`, [a]);
      await listener.settle();
      expect(listener.received).toEqual([]);
      await writer.query('COMMIT');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await listener.settle();
      expect(listener.received).toEqual(['']);
    } finally {
      writer.release();
      await waitingRelay.close();
      await listener.close();
    }
  });

  it('a rolled-back transaction or savepoint sends no notification and leaves no outbox row', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await clearOutbox(db.pool);
    const listener = await listen(db.url);
    const waitingRelay = createRelayWakeupLock(db.url);
    expect(await waitingRelay.hold(1000)).toBe(true);
    const writer = await db.pool.connect();
    try {
      await writer.query('BEGIN');
      await addBooks(writer, a!, 2);
      await writer.query('ROLLBACK');
      await writer.query('BEGIN');
      await writer.query('SAVEPOINT s');
      await addBooks(writer, a!, 2);
      await writer.query('ROLLBACK TO SAVEPOINT s');
      await writer.query(`UPDATE author SET name = 'unrelated change' WHERE id = $1`, [a]);
      await writer.query('COMMIT');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await listener.settle();
      expect(listener.received).toEqual([]);
      expect(await outboxRows(db.pool)).toEqual([]);
    } finally {
      writer.release();
      await waitingRelay.close();
      await listener.close();
    }
  });

  it('an outbox row is visible to the relay only once its transaction commits', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await clearOutbox(db.pool);
    const writer = await db.pool.connect();
    try {
      await writer.query('BEGIN');
      await addBooks(writer, a!, 1);
      expect(await withTransaction(db.pool, (client) => claimOutboxBatch(client, 100))).toEqual([]);
      await writer.query('COMMIT');
    } finally {
      writer.release();
    }
    const claimed = await withTransaction(db.pool, (client) => claimOutboxBatch(client, 100));
    expect(claimed).toEqual([expect.objectContaining({ authorId: a, current: expect.objectContaining({ booksCount: 1 }) })]);
  });

  it('a claim coalesces rows per author, reads the current state, and reports deleted authors', async () => {
    const [kept, deleted] = await createAuthors(db.pool, 2);
    await clearOutbox(db.pool);
    for (let i = 0; i < 5; i += 1) await addBooks(db.pool, kept!, 1);
    await addBooks(db.pool, deleted!, 2);
    const { rows } = await db.pool.query('SELECT books_count_version FROM author WHERE id = $1', [deleted]);
    const lastVersion = rows[0].books_count_version as number;
    await db.pool.query('DELETE FROM author WHERE id = $1', [deleted]);

    const claimed = await withTransaction(db.pool, (client) => claimOutboxBatch(client, 100));
    expect(claimed).toEqual([
      expect.objectContaining({ authorId: kept, events: 5, current: expect.objectContaining({ booksCount: 5 }) }),
      expect.objectContaining({ authorId: deleted, current: null, queuedVersion: lastVersion }),
    ]);
    expect(await outboxRows(db.pool)).toEqual([]);
  });

  it('rows claimed by a transaction that rolls back (Redis failed) are claimable again', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await clearOutbox(db.pool);
    await addBooks(db.pool, a!, 1);
    await expect(
      withTransaction(db.pool, async (client) => {
        expect(await claimOutboxBatch(client, 100)).toHaveLength(1);
        throw new Error('Redis is down');
      }),
    ).rejects.toThrow('Redis is down');
    expect(await outboxRows(db.pool)).toHaveLength(1);
  });

  it('two relays claiming at once take disjoint rows (SKIP LOCKED) and never wait on each other', async () => {
    const authors = await createAuthors(db.pool, 6);
    await clearOutbox(db.pool);
    for (const id of authors) await addBooks(db.pool, id, 1);
    const first = await db.pool.connect();
    try {
      await first.query('BEGIN');
      const mine = await claimOutboxBatch(first, 3);
      const theirs = await withTransaction(db.pool, (client) => claimOutboxBatch(client, 100));
      expect(mine).toHaveLength(3);
      expect(theirs).toHaveLength(3);
      const mineIds = mine.map((row) => row.authorId);
      expect(theirs.every((row) => !mineIds.includes(row.authorId))).toBe(true);
      await first.query('COMMIT');
    } finally {
      first.release();
    }
    expect(await outboxRows(db.pool)).toEqual([]);
  });

  it('a claim does not block count writers, but an author deletion waits for it', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await clearOutbox(db.pool);
    await addBooks(db.pool, a!, 1);
    const relay = await db.pool.connect();
    try {
      await relay.query('BEGIN');
      await claimOutboxBatch(relay, 100);
      // A count writer goes through while the relay holds its FOR KEY SHARE lock...
      await addBooks(db.pool, a!, 1);
      // ...but a deletion must wait, so the relay's write cannot overtake the key removal.
      const deleter = await db.pool.connect();
      try {
        await deleter.query(`SET lock_timeout = '200ms'`);
        await expect(deleter.query('DELETE FROM author WHERE id = $1', [a])).rejects.toMatchObject({ code: '55P03' });
        await deleter.query('RESET lock_timeout');
      } finally {
        deleter.release();
      }
      await relay.query('COMMIT');
    } finally {
      relay.release();
    }
  });

  it('the backlog reports pending rows and the age of the oldest by the database clock', async () => {
    const [a] = await createAuthors(db.pool, 1);
    await clearOutbox(db.pool);
    expect(await readOutboxBacklog(db.pool)).toEqual({ pending: 0, oldestAgeMs: 0 });
    await addBooks(db.pool, a!, 1);
    await addBooks(db.pool, a!, 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const backlog = await readOutboxBacklog(db.pool);
    expect(backlog.pending).toBe(2);
    expect(backlog.oldestAgeMs).toBeGreaterThanOrEqual(25);
  });
});
