// The worker's Prometheus metrics, in one registry per worker instance (tests run several in one
// process). Served on WORKER_PORT at /metrics; docs/worker.md lists them with their meaning.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ErrorKind =
  | 'relay_database'
  | 'relay_redis'
  | 'heartbeat'
  | 'listener'
  | 'cache_rebuild'
  | 'scheduler'
  | 'backfill'
  | 'reconcile'
  | 'queue';

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

export function createWorkerMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'tally_worker_' });
  const registers = [registry];
  return {
    registry,
    outboxBacklog: new Gauge({
      name: 'tally_outbox_backlog',
      help: 'Outbox rows waiting to be mirrored to Redis (claimed but uncommitted rows included)',
      registers,
    }),
    outboxOldestPendingSeconds: new Gauge({
      name: 'tally_outbox_oldest_pending_seconds',
      help: 'Age of the oldest waiting outbox row, by the database clock; 0 when empty',
      registers,
    }),
    commitToRedisLagSeconds: new Histogram({
      name: 'tally_relay_commit_to_redis_lag_seconds',
      help: 'Per author and batch: from the oldest change written to the outbox until Redis acknowledged it (database clock)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    }),
    batches: new Counter({ name: 'tally_relay_batches_total', help: 'Outbox batches committed', registers }),
    events: new Counter({ name: 'tally_relay_outbox_rows_total', help: 'Outbox rows relayed and deleted', registers }),
    mirrored: new Counter({
      name: 'tally_relay_mirrored_total',
      help: 'Per-author Redis updates by outcome: written, removed, unchanged (Redis already had that version or newer: a replay)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    errors: new Counter({ name: 'tally_worker_errors_total', help: 'Errors by kind', labelNames: ['kind'] as const, registers }),
    reconnects: new Counter({
      name: 'tally_worker_reconnects_total',
      help: 'Connections re-established after a loss, by connection',
      labelNames: ['connection'] as const,
      registers,
    }),
    listenerUp: new Gauge({ name: 'tally_worker_listener_up', help: '1 while LISTEN tally_outbox is established', registers }),
    heartbeatTtlSeconds: new Gauge({
      name: 'tally_worker_heartbeat_ttl_seconds',
      help: 'TTL of the last heartbeat this worker published; 0 when it withdrew it',
      registers,
    }),
    cacheTrusted: new Gauge({
      name: 'tally_worker_cache_trusted',
      help: '1 while the Redis epoch vouches for the server (counts fully mirrored since it started)',
      registers,
    }),
    cacheRebuilds: new Counter({
      name: 'tally_worker_cache_rebuilds_total',
      help: 'Full re-mirrors of Redis from the column, by result',
      labelNames: ['result'] as const,
      registers,
    }),
    driftFound: new Counter({
      name: 'tally_reconcile_drift_found_total',
      help: 'Authors found drifting by reconcile: column (column differs from COUNT) or redis (Redis differs from the column)',
      labelNames: ['where'] as const,
      registers,
    }),
    driftRepaired: new Counter({
      name: 'tally_reconcile_drift_repaired_total',
      help: 'Drifting authors repaired by reconcile',
      labelNames: ['where'] as const,
      registers,
    }),
    backfilled: new Counter({ name: 'tally_backfill_authors_total', help: 'NULL counts computed by backfill', registers }),
    jobs: new Counter({
      name: 'tally_worker_jobs_total',
      help: 'BullMQ jobs finished by queue and outcome (completed, failed, stalled)',
      labelNames: ['queue', 'outcome'] as const,
      registers,
    }),
  };
}
