// The BullMQ side of the worker: processors for `backfill` and `reconcile`, and the job scheduler
// that adds a reconcile job every RECONCILE_INTERVAL_MS. Schedulers live in Redis and vanish with
// it (FLUSHALL, a restart without persistence), so the scheduler is checked again periodically,
// not only at boot. Jobs are idempotent (exact refreshes, version-guarded writes): a stalled job
// that runs twice is harmless.
import { isClusterUrl } from '@tally/config';
import {
  BACKFILL_QUEUE,
  JOB_OPTIONS,
  RECONCILE_QUEUE,
  RECONCILE_SCHEDULER_ID,
  createRedis,
  redisOptionsFor,
  type BackfillJobData,
  type ReconcileJobData,
  type RedisKeys,
} from '@tally/cache';
import { Queue, Worker, type Job, type RedisOptions as BullRedisOptions } from 'bullmq';
import type { Logger } from 'pino';
import { runBackfill, type BackfillResult } from './backfill.js';
import type { WorkerMetrics } from './metrics.js';
import type { RelayContext } from './outbox-relay.js';
import { reconcileOnce, type ReconcileResult } from './reconcile.js';

export interface JobQueuesOptions {
  redisUrl: string;
  keys: RedisKeys;
  logger: Logger;
  metrics: WorkerMetrics;
  reconcileIntervalMs: number;
  /** How often to make sure the reconcile scheduler still exists. */
  schedulerCheckIntervalMs: number;
  /** How long close() waits for running jobs before closing forcibly (they then stall and rerun). */
  closeGraceMs: number;
}

export interface JobQueues {
  readonly backfill: Queue<BackfillJobData, BackfillResult, string>;
  readonly reconcile: Queue<ReconcileJobData, ReconcileResult, string>;
  /** Creates the reconcile scheduler when it is missing; never throws. */
  ensureScheduler(): Promise<void>;
  close(): Promise<void>;
}

/** A job interrupted by shutdown: it fails this attempt and a retry resumes from `afterId`. */
class StoppedError extends Error {
  override readonly name = 'StoppedError';
  constructor(queue: string, afterId: number) {
    super(`${queue} stopped after author ${afterId} because the worker is shutting down; a retry resumes there`);
  }
}

const sleep = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref());

export function startJobQueues(context: RelayContext, options: JobQueuesOptions): JobQueues {
  const { logger, metrics } = options;
  const queueRole = redisOptionsFor('queue');
  // BullMQ opens its own connections from options for one server, but takes a Redis Cluster only
  // as a client: it shares it (and duplicates it for the workers' blocking reads), and we close it.
  let clusterErrorLogged = false;
  const cluster = isClusterUrl(options.redisUrl)
    ? createRedis(options.redisUrl, 'queue', {
        connectionName: 'tally-worker-queues',
        onError: (error) => {
          if (!clusterErrorLogged) logger.warn({ err: error }, 'BullMQ Redis Cluster connection error; ioredis reconnects by itself');
          clusterErrorLogged = true;
        },
      })
    : undefined;
  cluster?.on('ready', () => (clusterErrorLogged = false));
  const connection: BullRedisOptions | NonNullable<typeof cluster> = cluster ?? {
    ...queueRole,
    url: options.redisUrl,
    retryStrategy: queueRole.retryStrategy ?? undefined,
  };
  const prefix = options.keys.bullPrefix;
  const queueOptions = { connection, prefix, defaultJobOptions: JOB_OPTIONS };
  const backfill = new Queue<BackfillJobData, BackfillResult, string>(BACKFILL_QUEUE, queueOptions);
  const reconcile = new Queue<ReconcileJobData, ReconcileResult, string>(RECONCILE_QUEUE, queueOptions);
  const aborting = new AbortController();

  const backfillWorker = new Worker<BackfillJobData, BackfillResult>(
    BACKFILL_QUEUE,
    async (job: Job<BackfillJobData, BackfillResult>) => {
      let counted = 0;
      const result = await runBackfill(context, {
        ...(job.data.authorIds ? { authorIds: job.data.authorIds } : {}),
        afterId: job.data.afterId ?? 0,
        signal: aborting.signal,
        onProgress: async (progress) => {
          metrics.backfilled.inc(progress.computed - counted);
          counted = progress.computed;
          await job.updateData({ ...job.data, afterId: progress.afterId });
          await job.updateProgress(progress);
        },
      });
      if (aborting.signal.aborted) throw new StoppedError('backfill', result.afterId);
      logger.info({ jobId: job.id, ...result }, 'backfill finished');
      return result;
    },
    { connection, prefix, concurrency: 1, removeOnComplete: JOB_OPTIONS.removeOnComplete, removeOnFail: JOB_OPTIONS.removeOnFail },
  );

  const reconcileWorker = new Worker<ReconcileJobData, ReconcileResult>(
    RECONCILE_QUEUE,
    async (job: Job<ReconcileJobData, ReconcileResult>) => {
      const result = await reconcileOnce(context, {
        afterId: job.data.afterId ?? 0,
        signal: aborting.signal,
        onColumnDrift: (drift) => {
          metrics.driftFound.inc({ where: 'column' });
          metrics.driftRepaired.inc({ where: 'column' });
          logger.warn({ ...drift }, 'reconcile: books_count drifted from COUNT(*) (a write bypassed the triggers); repaired');
        },
        onProgress: async (progress) => {
          await job.updateData({ ...job.data, afterId: progress.afterId });
          await job.updateProgress(progress);
        },
      });
      if (!result.complete) throw new StoppedError('reconcile', result.afterId);
      if (result.redisDrift > 0) {
        metrics.driftFound.inc({ where: 'redis' }, result.redisDrift);
        metrics.driftRepaired.inc({ where: 'redis' }, result.redisDrift);
      }
      const level = result.columnDrift > 0 || result.redisDrift > 0 ? 'warn' : 'info';
      logger[level]({ jobId: job.id, ...result, drifting: result.drifting.length }, 'reconcile finished');
      return result;
    },
    { connection, prefix, concurrency: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 1000 } },
  );

  for (const [name, worker] of [
    [BACKFILL_QUEUE, backfillWorker],
    [RECONCILE_QUEUE, reconcileWorker],
  ] as const) {
    worker.on('completed', () => metrics.jobs.inc({ queue: name, outcome: 'completed' }));
    worker.on('failed', (job, error) => {
      const attempt = { queue: name, jobId: job?.id, attemptsMade: job?.attemptsMade, willRetry: job !== undefined && job.attemptsMade < (job.opts.attempts ?? 1) };
      if (error instanceof StoppedError) {
        metrics.jobs.inc({ queue: name, outcome: 'interrupted' });
        logger.warn({ ...attempt, err: error }, `${name} job interrupted by shutdown`);
        return;
      }
      metrics.jobs.inc({ queue: name, outcome: 'failed' });
      metrics.errors.inc({ kind: name === BACKFILL_QUEUE ? 'backfill' : 'reconcile' });
      logger.error({ ...attempt, err: error }, `${name} job failed`);
    });
    worker.on('stalled', (jobId) => {
      metrics.jobs.inc({ queue: name, outcome: 'stalled' });
      logger.warn({ queue: name, jobId }, `${name} job stalled (its worker died or blocked); it runs again`);
    });
    worker.on('error', (error) => {
      metrics.errors.inc({ kind: 'queue' });
      logger.error({ err: error, queue: name }, 'BullMQ worker error');
    });
  }
  for (const queue of [backfill, reconcile]) {
    queue.on('error', (error) => {
      metrics.errors.inc({ kind: 'queue' });
      logger.error({ err: error, queue: queue.name }, 'BullMQ queue error');
    });
  }

  const ensureScheduler = async () => {
    try {
      // Re-upserting an unchanged scheduler would reschedule its next job on every check; a changed
      // RECONCILE_INTERVAL_MS must take effect even though Redis kept the old scheduler (AOF).
      const existing = await reconcile.getJobScheduler(RECONCILE_SCHEDULER_ID);
      if (existing && Number(existing.every) === options.reconcileIntervalMs) return;
      await reconcile.upsertJobScheduler(
        RECONCILE_SCHEDULER_ID,
        { every: options.reconcileIntervalMs },
        { name: 'reconcile', data: {}, opts: { attempts: 3, backoff: JOB_OPTIONS.backoff, removeOnComplete: { count: 100 }, removeOnFail: { count: 1000 } } },
      );
      logger.info(
        { everyMs: options.reconcileIntervalMs, previousEveryMs: existing ? Number(existing.every) : undefined },
        existing ? 'reconcile scheduler interval changed' : 'reconcile scheduler created',
      );
    } catch (error) {
      metrics.errors.inc({ kind: 'scheduler' });
      logger.error({ err: error }, 'cannot check or create the reconcile scheduler; retrying later');
    }
  };
  void ensureScheduler();
  const schedulerTimer = setInterval(() => void ensureScheduler(), options.schedulerCheckIntervalMs);
  schedulerTimer.unref();

  const closeWorker = async (worker: Worker) => {
    if ((await Promise.race([worker.close(), sleep(options.closeGraceMs)])) === 'timeout') {
      logger.warn({ queue: worker.name }, 'job still running after the grace period; closing forcibly (it will stall and run again)');
      await worker.close(true);
    }
  };

  return {
    backfill,
    reconcile,
    ensureScheduler,
    async close() {
      clearInterval(schedulerTimer);
      // Jobs stop after their current chunk and fail this attempt; the retry resumes from afterId.
      aborting.abort();
      const results = await Promise.allSettled([closeWorker(backfillWorker), closeWorker(reconcileWorker)]);
      results.push(...(await Promise.allSettled([backfill.close(), reconcile.close()])));
      cluster?.disconnect();
      const failed = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
      if (failed.length > 0) throw new AggregateError(failed, 'closing the BullMQ queues failed');
    },
  };
}
