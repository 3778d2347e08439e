// One worker instance: the relay (listener + poll + drains), the freshness heartbeat, the Redis
// data-loss guard, the BullMQ processors and the health server, wired together. main.ts runs one
// per process; tests run several in one process (distinct workerId).
//
// Shutdown order: stop intake (poll timer, listener), then let the batch and jobs in flight
// finish (jobs get a grace period, then are closed forcibly and rerun elsewhere), then close the
// HTTP server and the connections. Every step runs even when one fails; stop() is idempotent.
import type { Config } from '@tally/config';
import { createRedis, redisKeys } from '@tally/cache';
import { createPool, createRelayWakeupLock } from '@tally/db';
import type { Logger } from 'pino';
import { createCacheGuard } from './cache-guard.js';
import { createFreshnessHeartbeat, defaultWorkerId } from './freshness-heartbeat.js';
import { startHealthServer, type HealthReport } from './health-server.js';
import { startJobQueues, type JobQueues } from './job-queues.js';
import { createLogger } from './logger.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { startOutboxListener } from './outbox-listener.js';
import type { RelayContext } from './outbox-relay.js';
import { createRelayLoop } from './relay-loop.js';

export type WorkerConfig = Pick<
  Config,
  'databaseUrl' | 'redisUrl' | 'redisPrefix' | 'countStalenessMs' | 'reconcileIntervalMs' | 'workerPort' | 'host' | 'logLevel'
>;

/** Tuning with production defaults; tests shorten or disable parts. */
export interface WorkerSettings {
  /** Safety-net drain and heartbeat interval; keep it well under COUNT_STALENESS_MS. */
  pollIntervalMs: number;
  /** Outbox rows per relay transaction. */
  batchSize: number;
  /** How long the relay waits for open writers before it waits for notifications (else it polls). */
  wakeupTimeoutMs: number;
  /** While changes keep coming, the relay looks again this soon instead of having writers notify. */
  busyPollMs: number;
  /** Heartbeat publishes (after drains and poll ticks) are at least this far apart. */
  heartbeatMinIntervalMs: number;
  rebuildChunkSize: number;
  /** Run the BullMQ backfill and reconcile processors (and the scheduler). */
  jobs: boolean;
  schedulerCheckIntervalMs: number;
  /** Grace for running jobs at shutdown before they are closed forcibly. */
  jobCloseGraceMs: number;
  /** Identifies this process in Redis (`<prefix>worker:<id>`) and in the heartbeat. */
  workerId: string;
  presenceTtlMs: number;
  listenerRetry: { initialMs: number; maxMs: number };
  listenerParanoidCheckMs: number;
  /** Milliseconds without relay progress (a batch committed, or the outbox found empty) before /health reports degraded. */
  maxDrainAgeMs: number;
  collectDefaultMetrics: boolean;
}

export function defaultWorkerSettings(config: Pick<WorkerConfig, 'countStalenessMs'>): WorkerSettings {
  return {
    pollIntervalMs: Math.max(20, Math.min(250, Math.floor(config.countStalenessMs / 8))),
    batchSize: 500,
    wakeupTimeoutMs: 100,
    busyPollMs: 25,
    heartbeatMinIntervalMs: Math.max(10, Math.min(100, Math.floor(config.countStalenessMs / 20))),
    rebuildChunkSize: 1000,
    jobs: true,
    schedulerCheckIntervalMs: 30_000,
    jobCloseGraceMs: 5000,
    workerId: defaultWorkerId(),
    presenceTtlMs: 10_000,
    listenerRetry: { initialMs: 100, maxMs: 5000 },
    listenerParanoidCheckMs: 10_000,
    maxDrainAgeMs: 10_000,
    collectDefaultMetrics: true,
  };
}

export interface RunningWorker {
  readonly id: string;
  /** The health and metrics port (useful with WORKER_PORT=0). */
  readonly port: number;
  readonly metrics: WorkerMetrics;
  readonly jobs: JobQueues | undefined;
  health(): HealthReport;
  /** Resolves once LISTEN is established. */
  whenListening(): Promise<void>;
  /** Drains the outbox now (tests, tools); resolves when the drain ended. */
  drainNow(): Promise<void>;
  /** Graceful shutdown; safe to call more than once. Rejects, after every step ran, if one failed. */
  stop(): Promise<void>;
}

export async function startWorker(
  config: WorkerConfig,
  options: { logger?: Logger; settings?: Partial<WorkerSettings> } = {},
): Promise<RunningWorker> {
  const settings = { ...defaultWorkerSettings(config), ...options.settings };
  const logger = (options.logger ?? createLogger(config.logLevel)).child({ worker: settings.workerId });
  const metrics = createWorkerMetrics({ defaultMetrics: settings.collectDefaultMetrics });
  const startedAt = performance.now();
  const keys = redisKeys(config.redisPrefix);

  // Relay batches take milliseconds; backfill and reconcile chunks COUNT up to a few seconds. The
  // timeouts are backstops: a stuck query or a vanished server fails the batch, which is retried.
  const pool = createPool(config.databaseUrl, { max: 4, applicationName: 'tally-worker', statementTimeoutMs: 60_000, queryTimeoutMs: 65_000 });
  pool.on('error', (error) => logger.warn({ err: error }, 'an idle PostgreSQL connection failed; the pool replaces it'));
  let redisErrorLogged = false;
  const redis = createRedis(config.redisUrl, 'relay', {
    connectionName: `tally-worker-relay:${settings.workerId}`,
    onError: (error) => {
      if (!redisErrorLogged) logger.warn({ err: error }, 'Redis connection error; ioredis reconnects by itself');
      redisErrorLogged = true;
    },
  });
  const context: RelayContext = { pool, redis, keys };

  const heartbeat = createFreshnessHeartbeat(context, {
    stalenessMs: config.countStalenessMs,
    minIntervalMs: settings.heartbeatMinIntervalMs,
    workerId: settings.workerId,
    presenceTtlMs: settings.presenceTtlMs,
    presence: () => ({ listener: listener.state, cache: guard.state }),
    logger,
    metrics,
    onUntrusted: () => void guard.check(),
  });
  const guard = createCacheGuard(context, {
    logger,
    metrics,
    rebuildChunkSize: settings.rebuildChunkSize,
    onTrusted: () => void heartbeat.publish(),
  });
  const relay = createRelayLoop(context, {
    batchSize: settings.batchSize,
    wakeup: createRelayWakeupLock(config.databaseUrl, `tally-worker-wakeup:${settings.workerId}`),
    wakeupTimeoutMs: settings.wakeupTimeoutMs,
    busyPollMs: settings.busyPollMs,
    logger,
    metrics,
    onDrained: () => void heartbeat.publish(),
  });

  let readyBefore = false;
  redis.on('ready', () => {
    if (readyBefore) {
      metrics.reconnects.inc({ connection: 'redis' });
      logger.info('Redis connection ready again; checking whether Redis lost data');
    }
    readyBefore = true;
    redisErrorLogged = false;
    // The server may have restarted (and replayed an older AOF): distrust until checked.
    guard.onRedisReady();
    void relay.drain('reconnected');
  });

  const listener = startOutboxListener({
    databaseUrl: config.databaseUrl,
    logger,
    metrics,
    retry: settings.listenerRetry,
    paranoidCheckMs: settings.listenerParanoidCheckMs,
    onWake: (reason) => void relay.drain(reason),
  });
  void relay.drain('start');
  const pollTimer = setInterval(() => {
    void relay.drain('poll');
    void heartbeat.publish();
  }, settings.pollIntervalMs);

  const jobs = settings.jobs
    ? startJobQueues(context, {
        redisUrl: config.redisUrl,
        keys,
        logger,
        metrics,
        reconcileIntervalMs: config.reconcileIntervalMs,
        schedulerCheckIntervalMs: settings.schedulerCheckIntervalMs,
        closeGraceMs: settings.jobCloseGraceMs,
      })
    : undefined;

  const health = (): HealthReport => {
    const now = performance.now();
    const problems: string[] = [];
    const uptimeMs = now - startedAt;
    const drainAgeMs = relay.lastProgressAt === undefined ? undefined : now - relay.lastProgressAt;
    if (listener.state !== 'listening' && now - listener.stateSince > 5000) problems.push(`listener ${listener.state}`);
    if (redis.status !== 'ready') problems.push(`redis ${redis.status}`);
    if ((drainAgeMs ?? uptimeMs) > settings.maxDrainAgeMs) problems.push('relay made no progress recently');
    return {
      status: problems.length === 0 ? 'ok' : 'degraded',
      problems,
      worker: settings.workerId,
      uptimeSeconds: Math.round(uptimeMs / 1000),
      listener: listener.state,
      lastDrainAgeMs: drainAgeMs === undefined ? null : Math.round(drainAgeMs),
      redis: redis.status,
      cache: guard.state,
      heartbeatTtlMs: heartbeat.lastTtlMs,
    };
  };

  let server: Awaited<ReturnType<typeof startHealthServer>> | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info('stopping: no new batches or jobs; finishing the work in flight');
      clearInterval(pollTimer);
      const failures: unknown[] = [];
      const step = async (name: string, work: () => Promise<unknown>) => {
        try {
          await work();
        } catch (error) {
          failures.push(error);
          logger.error({ err: error, step: name }, 'a shutdown step failed; continuing with the next');
        }
      };
      // In parallel, so the slowest step (not their sum) counts against the 10 s a supervisor
      // grants: a stopped relay refuses new drains, so the listener need not close first.
      await Promise.all([
        step('listener', () => listener.close()),
        step('relay', () => relay.stop()),
        step('jobs', async () => jobs?.close()),
        step('cache guard', () => guard.stop()),
        step('heartbeat', () => heartbeat.stop()),
      ]);
      await step('presence', () => withTimeout(redis.del(keys.worker(settings.workerId)), 1000));
      await step('http', async () => server?.close());
      await step('redis', async () => {
        await withTimeout(redis.quit(), 1000).catch(() => redis.disconnect());
      });
      await step('pool', () => pool.end());
      logger.info({ failures: failures.length }, 'worker stopped');
      if (failures.length > 0) throw new AggregateError(failures, `the worker stopped, but ${failures.length} shutdown step(s) failed`);
    })();
    return stopping;
  };

  try {
    server = await startHealthServer({ host: config.host, port: config.workerPort, logger, registry: metrics.registry, report: health });
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  logger.info({ port: server.port, prefix: config.redisPrefix, stalenessMs: config.countStalenessMs }, 'worker started');

  return {
    id: settings.workerId,
    port: server.port,
    metrics,
    jobs,
    health,
    whenListening: () => listener.whenListening(),
    drainNow: () => relay.drain('poll'),
    stop,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref()),
  ]);
}
