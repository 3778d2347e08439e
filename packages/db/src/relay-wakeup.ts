// The relay's side of tally.wake_relay() (migration 0002): a relay about to wait for changes holds
// advisory lock (1952541804, 1) exclusively, and writers notify only while it does. Writers that
// stay silent hold the lock shared until they commit, so taking it exclusively waits them out:
// once it is held, every silent change is committed and visible to one more drain.
import { createClient, type Client } from './pool.js';
import { PgErrorCode, pgErrorCode } from './errors.js';

/** The advisory lock key, as the two int4 halves pg_advisory_lock(int, int) takes ("tall", 1). */
export const RELAY_WAKEUP_LOCK = [1952541804, 1] as const;

export interface RelayWakeupLock {
  /** Whether this session holds the lock, i.e. writers currently notify. */
  readonly held: boolean;
  /**
   * Declares the relay waiting: takes the lock exclusively, waiting up to `timeoutMs` for writers
   * that hold it shared. True when held (writers now notify, and every writer that did not has
   * committed or rolled back); false on timeout (another relay waits already, or a long writer
   * transaction is open: poll instead).
   */
  hold(timeoutMs: number): Promise<boolean>;
  /** Declares the relay busy again: writers stop notifying until the next hold(). */
  release(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A dedicated session for the lock (an advisory lock lives as long as its session; a pooled
 * connection could hand it to someone else). Connects lazily and again after a failure, which
 * releases the lock by ending the session: writers then stay silent and the poll takes over.
 */
export function createRelayWakeupLock(connectionString: string, applicationName = 'tally-worker-wakeup'): RelayWakeupLock {
  let client: Client | undefined;
  let held = false;
  let sessionLockTimeout: string | undefined;

  const connection = async (): Promise<Client> => {
    if (client) return client;
    // The lock wait is bounded by lock_timeout; anything slower is a dead connection.
    const fresh = createClient(connectionString, applicationName, { queryTimeoutMs: 5000 });
    fresh.on('error', () => {
      held = false;
      if (client === fresh) client = undefined;
    });
    await fresh.connect();
    client = fresh;
    sessionLockTimeout = undefined;
    return fresh;
  };

  const discard = async () => {
    const broken = client;
    client = undefined;
    held = false;
    await broken?.end().catch(() => {});
  };

  return {
    get held() {
      return held;
    },
    async hold(timeoutMs) {
      if (held) return true;
      try {
        const session = await connection();
        const lockTimeout = `${Math.max(1, Math.round(timeoutMs))}ms`;
        if (sessionLockTimeout !== lockTimeout) {
          await session.query(`SELECT set_config('lock_timeout', $1, false)`, [lockTimeout]);
          sessionLockTimeout = lockTimeout;
        }
        await session.query('SELECT pg_advisory_lock($1, $2)', [...RELAY_WAKEUP_LOCK]);
        held = true;
        return true;
      } catch (error) {
        if (pgErrorCode(error) === PgErrorCode.lockNotAvailable) return false;
        await discard();
        throw error;
      }
    },
    async release() {
      if (!held || !client) {
        held = false;
        return;
      }
      held = false;
      try {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [...RELAY_WAKEUP_LOCK]);
      } catch (error) {
        // Ending the session releases the lock just the same.
        await discard();
        throw error;
      }
    },
    async close() {
      await discard();
    },
  };
}
