// Notices that Redis lost data and rebuilds it. Checked when the Redis connection becomes ready
// (every reconnect: the server may have restarted) and whenever the heartbeat script refuses to
// publish (epoch missing or naming another server). Only one rebuild runs per process; several
// workers may rebuild at once harmlessly, and one that sees another's rebuild running waits for it.
import { checkEpoch, type CacheEpoch } from '@tally/cache';
import type { Logger } from 'pino';
import { coalescingTask } from './coalescing-task.js';
import type { WorkerMetrics } from './metrics.js';
import type { RelayContext } from './outbox-relay.js';
import { rebuildCache } from './rebuild-cache.js';

export type CacheState =
  /** Not checked since the connection (re)started. */
  | 'unknown'
  | 'trusted'
  | 'rebuilding'
  /** Another process is rebuilding (its marker is alive). */
  | 'waiting-for-rebuild'
  /** The last check or rebuild failed; retried on the next tick. */
  | 'error';

export interface CacheGuard {
  readonly state: CacheState;
  /** Checks the epoch and rebuilds when Redis lost data; never throws. */
  check(): Promise<void>;
  /** The connection (re)connected: distrust until checked. */
  onRedisReady(): void;
  stop(): Promise<void>;
}

export interface CacheGuardOptions {
  logger: Logger;
  metrics: WorkerMetrics;
  rebuildChunkSize: number;
  /** Called when Redis became trusted again, to publish the heartbeat without waiting for a tick. */
  onTrusted: () => void;
}

function describeEpoch(epoch: CacheEpoch, serverRunId: string): string {
  switch (epoch.kind) {
    case 'missing':
      return 'the epoch key is missing (FLUSHALL, or a restart without persistence)';
    case 'final':
      if (epoch.runId === serverRunId) {
        return 'a Redis Cluster master restarted or was replaced since the last full re-mirror (its run_id changed)';
      }
      return `the epoch names Redis run ${epoch.runId} but the server is now run ${serverRunId} (it restarted)`;
    case 'unreadable':
      return `the epoch key holds an unexpected value ${JSON.stringify(epoch.value.slice(0, 80))}`;
    case 'pending':
      return 'a rebuild marker expired or was replaced';
  }
}

export function createCacheGuard(context: RelayContext, options: CacheGuardOptions): CacheGuard {
  const { logger, metrics } = options;
  const abort = new AbortController();
  let state: CacheState = 'unknown';
  const setState = (next: CacheState) => {
    state = next;
    metrics.cacheTrusted.set(next === 'trusted' ? 1 : 0);
  };

  const task = coalescingTask(async () => {
    try {
      const { epoch, serverRunId, trusted } = await checkEpoch(context.redis, context.keys);
      if (trusted) {
        if (state !== 'trusted') options.onTrusted();
        setState('trusted');
        return;
      }
      if (epoch.kind === 'pending') {
        if (state !== 'waiting-for-rebuild') logger.info('another process is rebuilding the Redis counts; waiting for it');
        setState('waiting-for-rebuild');
        return;
      }
      logger.warn({ epoch }, `Redis cannot be trusted: ${describeEpoch(epoch, serverRunId)}; re-mirroring every author from the column`);
      setState('rebuilding');
      const started = performance.now();
      const result = await rebuildCache(context, { chunkSize: options.rebuildChunkSize, signal: abort.signal });
      metrics.cacheRebuilds.inc({ result: result.committed ? 'committed' : 'abandoned' });
      logger.info(
        { ...result, durationMs: Math.round(performance.now() - started) },
        result.committed ? 'Redis counts rebuilt; heartbeat resumes' : 'Redis rebuild did not commit; checking again',
      );
      if (result.committed) {
        setState('trusted');
        options.onTrusted();
      } else {
        setState('unknown');
      }
    } catch (error) {
      metrics.errors.inc({ kind: 'cache_rebuild' });
      logger.error({ err: error }, 'checking or rebuilding the Redis counts failed; retrying on the next tick');
      setState('error');
    }
  });

  return {
    get state() {
      return state;
    },
    check: () => task.run(),
    onRedisReady() {
      setState('unknown');
      void task.run();
    },
    async stop() {
      task.stop();
      abort.abort();
      await task.idle();
    },
  };
}
