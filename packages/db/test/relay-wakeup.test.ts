import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../test/support/database.js';
import { claimOutboxBatch, OUTBOX_CHANNEL } from '../src/outbox.js';
import { createClient, withTransaction } from '../src/pool.js';
import { createRelayWakeupLock } from '../src/relay-wakeup.js';
import { addBooks, clearOutbox, createAuthors } from './helpers.js';

const db = useTestDatabase();

async function listen(url: string) {
  const client = createClient(url, 'wakeup-test-listener');
  let received = 0;
  client.on('notification', (message) => {
    if (message.channel === OUTBOX_CHANNEL) received += 1;
  });
  await client.connect();
  await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
  return {
    /** Notifications received so far, after a round trip lets those already sent arrive. */
    async count() {
      await new Promise((resolve) => setTimeout(resolve, 30));
      await client.query('SELECT 1');
      return received;
    },
    close: () => client.end(),
  };
}

describe('writers notify only while a relay waits for them', () => {
  it('a busy relay (lock not held) hears nothing; a waiting relay (lock held) hears every commit', async () => {
    const [a] = await createAuthors(db.pool, 1);
    const listener = await listen(db.url);
    const relay = createRelayWakeupLock(db.url);
    try {
      await addBooks(db.pool, a!, 1);
      expect(await listener.count()).toBe(0);

      expect(await relay.hold(1000)).toBe(true);
      await addBooks(db.pool, a!, 1);
      await addBooks(db.pool, a!, 1);
      expect(await listener.count()).toBe(2);

      await relay.release();
      await addBooks(db.pool, a!, 1);
      expect(await listener.count()).toBe(2);
    } finally {
      await relay.close();
      await listener.close();
    }
  });

  it('a change that commits just as the relay goes idle is either waited for or notified', async () => {
    const [a, b] = await createAuthors(db.pool, 2);
    await clearOutbox(db.pool);
    const listener = await listen(db.url);
    const relay = createRelayWakeupLock(db.url);
    const silent = await db.pool.connect();
    try {
      // A writer queues a change while the relay is busy: it holds the lock shared and stays silent.
      await silent.query('BEGIN');
      await addBooks(silent, a!, 1);

      // The relay found the outbox empty and goes idle: it must wait for that writer.
      let holdSettled = false;
      const holding = relay.hold(5000).then((held) => {
        holdSettled = true;
        return held;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(holdSettled).toBe(false);

      // A writer arriving while the relay waits for the lock cannot take it shared: it notifies.
      await addBooks(db.pool, b!, 1);
      expect(await listener.count()).toBe(1);

      await silent.query('COMMIT');
      expect(await holding).toBe(true);
      // Holding the lock means the silent change is committed: the relay's re-check finds it.
      const claimed = await withTransaction(db.pool, (client) => claimOutboxBatch(client, 100));
      expect(claimed.map((row) => row.authorId).sort((x, y) => x - y)).toEqual([a, b]);
    } finally {
      silent.release();
      await relay.close();
      await listener.close();
    }
  });

  it('a relay that cannot get the lock in time (a long writer transaction) is told to poll', async () => {
    const [a] = await createAuthors(db.pool, 1);
    const relay = createRelayWakeupLock(db.url);
    const longWriter = await db.pool.connect();
    try {
      await longWriter.query('BEGIN');
      await addBooks(longWriter, a!, 1);
      expect(await relay.hold(150)).toBe(false);
      expect(relay.held).toBe(false);
      await longWriter.query('COMMIT');
      expect(await relay.hold(1000)).toBe(true);
    } finally {
      longWriter.release();
      await relay.close();
    }
  });

  it('the lock dies with the relay session, so writers fall back to silence (and the poll)', async () => {
    const [a] = await createAuthors(db.pool, 1);
    const listener = await listen(db.url);
    const relay = createRelayWakeupLock(db.url);
    try {
      expect(await relay.hold(1000)).toBe(true);
      await relay.close();
      await addBooks(db.pool, a!, 1);
      expect(await listener.count()).toBe(0);
    } finally {
      await listener.close();
    }
  });
});
