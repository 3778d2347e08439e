// Tells the API how fresh Redis is. Reads Redis' clock, then the age of the oldest waiting outbox
// row by the database clock, and has the heartbeat expire at Redis time + COUNT_STALENESS_MS - that
// age: the key expires when Redis may have become staler than the budget (also when this worker
// stops or hangs), and a publish delayed in transit cannot outlive that instant. Each clock is only
// ever compared with itself. Also keeps this worker's presence key alive.
import { hostname } from 'node:os';
import { publishTrustedHeartbeat, readServerTimeMs } from '@tally/cache';
import { readOutboxBacklog } from '@tally/db';
import type { Logger } from 'pino';
import { coalescingTask } from './coalescing-task.js';
import type { WorkerMetrics } from './metrics.js';
import type { RelayContext } from './outbox-relay.js';

export interface FreshnessHeartbeat {
  /** Measures and publishes now, or once more after the publish in progress. */
  publish(): Promise<void>;
  /** The TTL last published; 0 when withdrawn or not published yet. */
  readonly lastTtlMs: number;
  stop(): Promise<void>;
}

export interface FreshnessHeartbeatOptions {
  stalenessMs: number;
  /**
   * Publishes closer together than this are merged into one at the end of the interval. Drains
   * ask after every pass, which under load would mean a publish every few milliseconds.
   */
  minIntervalMs: number;
  workerId: string;
  /** How long the presence key outlives the last refresh. */
  presenceTtlMs: number;
  /** What the presence key says about this worker (listener, cache state, ...). */
  presence: () => Record<string, unknown>;
  logger: Logger;
  metrics: WorkerMetrics;
  /** The epoch refused the heartbeat: Redis needs a rebuild (or one is running). */
  onUntrusted: () => void;
}

export const defaultWorkerId = (): string => `${hostname()}:${process.pid}`;

export function createFreshnessHeartbeat(context: RelayContext, options: FreshnessHeartbeatOptions): FreshnessHeartbeat {
  const { logger, metrics } = options;
  const startedAt = new Date().toISOString();
  let lastTtlMs = 0;
  let failing = false;
  let lastStartedAt = Number.NEGATIVE_INFINITY;
  let deferred: { timer: NodeJS.Timeout; run: Promise<void>; settle: () => void } | undefined;

  const task = coalescingTask(async () => {
    lastStartedAt = performance.now();
    // Not connected: a heartbeat not refreshed expires by itself; nothing to queue meanwhile.
    if (context.redis.status !== 'ready') return;
    try {
      // Redis' clock first, the lag second: the expiry is then never later than the oldest
      // waiting change's age allows, whatever happens to the clocks of the other hosts.
      const measuredAt = await readServerTimeMs(context.redis, context.keys);
      const backlog = await readOutboxBacklog(context.pool);
      metrics.outboxBacklog.set(backlog.pending);
      metrics.outboxOldestPendingSeconds.set(backlog.oldestAgeMs / 1000);
      const ttlMs = options.stalenessMs - backlog.oldestAgeMs;
      const outcome = await publishTrustedHeartbeat(context.redis, context.keys, measuredAt + ttlMs, {
        worker: options.workerId,
        lagMs: Math.round(backlog.oldestAgeMs),
        backlog: backlog.pending,
        at: new Date().toISOString(),
      });
      lastTtlMs = outcome === 'published' ? Math.floor(ttlMs) : 0;
      metrics.heartbeatTtlSeconds.set(lastTtlMs / 1000);
      if (outcome === 'withdrawn-untrusted') options.onUntrusted();
      await context.redis.set(
        context.keys.worker(options.workerId),
        JSON.stringify({ worker: options.workerId, pid: process.pid, startedAt, ...options.presence(), at: new Date().toISOString() }),
        'PX',
        options.presenceTtlMs,
      );
      if (failing) logger.info('heartbeat published again');
      failing = false;
    } catch (error) {
      lastTtlMs = 0;
      metrics.heartbeatTtlSeconds.set(0);
      metrics.errors.inc({ kind: 'heartbeat' });
      // Nothing to undo: a heartbeat that is not refreshed expires by itself.
      if (!failing) logger.warn({ err: error }, 'measuring the backlog or publishing the heartbeat failed; it will expire');
      failing = true;
    }
  });

  const publish = (): Promise<void> => {
    const waitMs = lastStartedAt + options.minIntervalMs - performance.now();
    if (waitMs <= 0) return task.run();
    if (!deferred) {
      let settle!: () => void;
      const run = new Promise<void>((resolve) => (settle = resolve));
      const timer = setTimeout(() => {
        deferred = undefined;
        void task.run().then(settle);
      }, waitMs);
      deferred = { timer, run, settle };
    }
    return deferred.run;
  };

  return {
    publish,
    get lastTtlMs() {
      return lastTtlMs;
    },
    async stop() {
      if (deferred) {
        clearTimeout(deferred.timer);
        deferred.settle();
        deferred = undefined;
      }
      task.stop();
      await task.idle();
    },
  };
}
