// Drives the relay: drains the outbox batch after batch until it is empty, whenever asked (start,
// notification, reconnect, poll tick). Requests during a drain coalesce into one more drain.
// Failures are counted and retried by the next request; they never stop the loop.
//
// Writers NOTIFY only while a relay waits (migration 0002, packages/db/src/relay-wakeup.ts). So the
// loop releases the wake-up lock as soon as a batch finds work (writers stop paying for NOTIFY
// while it drains) and takes it again once the outbox is empty, then checks the outbox once more:
// taking the lock waited for every writer that stayed silent, so that last check sees them all.
// When the lock cannot be had in time, the relay stays without it and the poll tick brings it back.
// Under steady load the relay does not wait at all: a drain that relayed something looks again
// after busyPollMs without the lock, so writers keep committing silently; only a drain that finds
// nothing takes the lock. (Measured: taking it after every drain made nearly every writer notify.)
import type { RelayWakeupLock } from '@tally/db';
import type { Logger } from 'pino';
import { coalescingTask } from './coalescing-task.js';
import type { WorkerMetrics } from './metrics.js';
import { relayOutboxBatch, RelayBatchError, type RelayContext } from './outbox-relay.js';

export type DrainReason = 'start' | 'notification' | 'listening' | 'reconnected' | 'poll';

export interface RelayLoop {
  /** Drains now, or once more after the drain in progress; resolves when that drain ended. */
  drain(reason: DrainReason): Promise<void>;
  /**
   * performance.now() of the last batch that committed or found the outbox empty: the relay is
   * making progress (a long catch-up of full batches counts); undefined before the first.
   */
  readonly lastProgressAt: number | undefined;
  /** Stops after the batch in flight (its transaction commits or rolls back first). */
  stop(): Promise<void>;
}

export interface RelayLoopOptions {
  batchSize: number;
  /** The lock that makes writers notify while this relay waits. */
  wakeup: RelayWakeupLock;
  /** How long to wait for silent writers to commit before giving up the wait for notifications. */
  wakeupTimeoutMs: number;
  /** After a drain that relayed changes, look again this soon instead of waiting for NOTIFY. */
  busyPollMs: number;
  logger: Logger;
  metrics: WorkerMetrics;
  /** After each drain, successful or not: the heartbeat measures the backlog then. */
  onDrained: () => void;
}

export function createRelayLoop(context: RelayContext, options: RelayLoopOptions): RelayLoop {
  const { logger, metrics, batchSize, wakeup } = options;
  let stopped = false;
  let lastProgressAt: number | undefined;
  let failing = false;
  let followUp: NodeJS.Timeout | undefined;

  const drainAll = async () => {
    // Not connected (starting, or reconnecting): nothing to try; /health and ioredis report it,
    // and the 'ready' event drains as soon as it is back.
    if (context.redis.status !== 'ready') {
      options.onDrained();
      return;
    }
    let relayed = 0;
    try {
      while (!stopped) {
        const batch = await relayOutboxBatch(context, batchSize);
        relayed += batch.rows;
        lastProgressAt = performance.now();
        if (batch.rows > 0 && wakeup.held) await releaseWakeup();
        if (batch.rows > 0) {
          metrics.batches.inc();
          metrics.events.inc(batch.rows);
          metrics.mirrored.inc({ outcome: 'written' }, batch.written);
          metrics.mirrored.inc({ outcome: 'removed' }, batch.removed);
          metrics.mirrored.inc({ outcome: 'unchanged' }, batch.unchanged);
          for (const lag of batch.lagsMs) metrics.commitToRedisLagSeconds.observe(lag / 1000);
          logger.debug({ rows: batch.rows, authors: batch.authors, written: batch.written, removed: batch.removed, unchanged: batch.unchanged }, 'relayed outbox batch');
        }
        if (batch.rows < batchSize) {
          // Empty while writers were notifying: nothing can have slipped by, so wait here.
          if (wakeup.held || stopped) break;
          // Busy: writers are active, look again soon rather than make them notify.
          if (relayed > 0) {
            scheduleFollowUp();
            break;
          }
          // Quiet: wait for the silent writers, then look once more before waiting.
          if (!(await holdWakeup())) break;
        }
      }
      if (failing) logger.info('relay recovered: the outbox drains again');
      failing = false;
    } catch (error) {
      const side = error instanceof RelayBatchError ? error.side : 'database';
      metrics.errors.inc({ kind: side === 'redis' ? 'relay_redis' : 'relay_database' });
      // Logged when the relay starts failing, not on every retry of a long outage.
      if (!failing) logger.error({ err: error }, 'relay batch failed; retrying on every poll tick');
      else logger.debug({ err: error }, 'relay batch failed again');
      failing = true;
    } finally {
      options.onDrained();
    }
  };

  const scheduleFollowUp = () => {
    followUp ??= setTimeout(() => {
      followUp = undefined;
      void task.run();
    }, options.busyPollMs);
  };

  const holdWakeup = async (): Promise<boolean> => {
    try {
      const held = await wakeup.hold(options.wakeupTimeoutMs);
      if (!held) logger.debug('writers still open after the wake-up timeout; relying on the poll until the next drain');
      return held;
    } catch (error) {
      metrics.errors.inc({ kind: 'wakeup_lock' });
      logger.warn({ err: error }, 'cannot take the wake-up lock; writers stay silent and the poll keeps the relay going');
      return false;
    }
  };
  const releaseWakeup = async (): Promise<void> => {
    try {
      await wakeup.release();
    } catch (error) {
      // The session ended with the error, and the lock with it.
      logger.debug({ err: error }, 'the wake-up lock session failed while releasing it');
    }
  };

  const task = coalescingTask(drainAll);
  return {
    drain(reason) {
      logger.trace({ reason }, 'drain requested');
      return task.run();
    },
    get lastProgressAt() {
      return lastProgressAt;
    },
    async stop() {
      stopped = true;
      clearTimeout(followUp);
      task.stop();
      await task.idle();
      await wakeup.close();
    },
  };
}
