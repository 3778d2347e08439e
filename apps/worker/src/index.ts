// @tally/worker: the outbox relay and maintenance jobs. main.ts runs it as a process; the API, the
// CLI (`tally counts backfill | verify | rebuild-cache`) and tests reuse these building blocks.
export { coalescingTask, type CoalescingTask } from './coalescing-task.js';
export { runBackfill, type BackfillOptions, type BackfillProgress, type BackfillResult } from './backfill.js';
export { createCacheGuard, type CacheGuard, type CacheState } from './cache-guard.js';
export { createFreshnessHeartbeat, defaultWorkerId, type FreshnessHeartbeat } from './freshness-heartbeat.js';
export { startJobQueues, type JobQueues, type JobQueuesOptions } from './job-queues.js';
export { createLogger } from './logger.js';
export { createWorkerMetrics, type ErrorKind, type WorkerMetrics } from './metrics.js';
export { startOutboxListener, type ListenerState, type OutboxListener, type WakeReason } from './outbox-listener.js';
export { countChangeFor, relayOutboxBatch, RelayBatchError, type RelayBatchResult, type RelayContext } from './outbox-relay.js';
export { removeOrphanKeys } from './orphan-keys.js';
export { rebuildCache, type RebuildOptions, type RebuildProgress, type RebuildResult } from './rebuild-cache.js';
export {
  reconcileOnce,
  type ColumnDrift,
  type ReconcileOptions,
  type ReconcileProgress,
  type ReconcileResult,
} from './reconcile.js';
export { createRelayLoop, type DrainReason, type RelayLoop } from './relay-loop.js';
export {
  defaultWorkerSettings,
  startWorker,
  type RunningWorker,
  type WorkerConfig,
  type WorkerSettings,
} from './worker.js';
