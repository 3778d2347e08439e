// `tally counts backfill`: compute counts that are NULL (not computed yet). By default it enqueues
// the deduplicated backfill job for the worker; --inline runs the worker's backfill in this process;
// --wait enqueues a job of its own and follows the worker's progress until it finishes.
import { randomUUID } from 'node:crypto';
import { isClusterUrl } from '@tally/config';
import {
  BACKFILL_ALL_JOB_ID,
  BACKFILL_JOB_NAME,
  BACKFILL_QUEUE,
  DEDUPLICATED_BACKFILL_OPTIONS,
  JOB_OPTIONS,
  createRedis,
  redisOptionsFor,
  type BackfillJobData,
} from '@tally/cache';
import { runBackfill, type BackfillProgress, type BackfillResult } from '@tally/worker';
import { Queue, QueueEvents } from 'bullmq';
import type { CliContext } from '../context.js';
import { CliError, reasonOf } from '../errors.js';

export type BackfillMode = 'enqueue' | 'inline' | 'wait';

export interface BackfillCommandResult {
  mode: BackfillMode;
  jobId: string | null;
  /** enqueue: a backfill of every NULL count was already waiting or running; nothing was added. */
  alreadyQueued: boolean;
  /** inline and wait: what the backfill did. */
  computed: number | null;
  total: number | null;
}


async function enqueue(context: CliContext): Promise<BackfillCommandResult> {
  const queue = new Queue<BackfillJobData>(BACKFILL_QUEUE, { connection: await context.redis(), prefix: context.keys.bullPrefix });
  try {
    const existing = await queue.getJob(BACKFILL_ALL_JOB_ID);
    // Finished jobs are removed, so the shared id only deduplicates a backfill still to come.
    await queue.add(BACKFILL_JOB_NAME, { reason: 'cli' }, { ...DEDUPLICATED_BACKFILL_OPTIONS, jobId: BACKFILL_ALL_JOB_ID });
    return { mode: 'enqueue', jobId: BACKFILL_ALL_JOB_ID, alreadyQueued: existing !== undefined, computed: null, total: null };
  } finally {
    await queue.close();
  }
}

async function inline(context: CliContext): Promise<BackfillCommandResult> {
  const [pool, redis] = [await context.database(), await context.redis()];
  const progress = context.output.progress('authors', 0);
  let result: BackfillResult;
  try {
    result = await runBackfill(
      { pool, redis, keys: context.keys },
      {
        onProgress: (step: BackfillProgress) => {
          progress.setTotal(step.total);
          progress.update(step.computed);
        },
      },
    );
  } finally {
    progress.stop();
  }
  return { mode: 'inline', jobId: null, alreadyQueued: false, computed: result.computed, total: result.total };
}

async function enqueueAndWait(context: CliContext, timeoutMs: number): Promise<BackfillCommandResult> {
  const redis = await context.redis();
  const prefix = context.keys.bullPrefix;
  // Its own job id: waiting on the shared one could attach to a job that finished and was removed.
  const jobId = `cli-${randomUUID()}`;
  // QueueEvents blocks on its own connection; BullMQ's option type has no null retryStrategy. A
  // Redis Cluster is handed to BullMQ as a client of its own, closed below.
  const role = redisOptionsFor('queue');
  const url = context.config.redisUrl;
  const eventsCluster = isClusterUrl(url) ? createRedis(url, 'queue', { connectionName: 'tally-cli-events', onError: () => {} }) : undefined;
  const connection = eventsCluster ?? { ...role, url, retryStrategy: role.retryStrategy ?? undefined };
  const events = new QueueEvents(BACKFILL_QUEUE, { connection, prefix });
  const queue = new Queue<BackfillJobData, BackfillResult>(BACKFILL_QUEUE, { connection: redis, prefix });
  const progress = context.output.progress('authors', 0);
  events.on('progress', ({ jobId: id, data }) => {
    if (id !== jobId || typeof data !== 'object' || data === null) return;
    const step = data as BackfillProgress;
    progress.setTotal(step.total);
    progress.update(step.computed);
  });
  events.on('error', () => {});
  try {
    // Listen before adding, so a quick job cannot finish unseen.
    await events.waitUntilReady();
    const job = await queue.add(BACKFILL_JOB_NAME, { reason: 'cli' }, { attempts: JOB_OPTIONS.attempts, backoff: JOB_OPTIONS.backoff, jobId, removeOnComplete: { age: 3600 }, removeOnFail: { age: 86_400 } });
    let result: BackfillResult;
    try {
      result = await job.waitUntilFinished(events, timeoutMs);
    } catch (error) {
      throw new CliError(
        `The backfill job ${jobId} did not finish: ${reasonOf(error)}. If it timed out, check that a worker runs ` +
          '(`tally outbox status` lists live workers) or run the backfill here with `tally counts backfill --inline`.',
        undefined,
        { cause: error },
      );
    }
    return { mode: 'wait', jobId, alreadyQueued: false, computed: result.computed, total: result.total };
  } finally {
    progress.stop();
    await Promise.allSettled([queue.close(), events.close()]);
    eventsCluster?.disconnect();
  }
}

export async function runBackfillCommand(
  context: CliContext,
  options: { mode: BackfillMode; timeoutMs: number },
): Promise<BackfillCommandResult> {
  const result =
    options.mode === 'inline' ? await inline(context) : options.mode === 'wait' ? await enqueueAndWait(context, options.timeoutMs) : await enqueue(context);
  const lines =
    result.mode === 'enqueue'
      ? [
          result.alreadyQueued
            ? `A backfill of every NULL count is already queued (job ${result.jobId}); nothing added`
            : `Queued the backfill of every NULL count (job ${result.jobId}); a worker runs it. Follow it with \`tally outbox status\``,
        ]
      : [`Computed ${result.computed} of ${result.total} NULL count(s)${result.mode === 'wait' ? ` (job ${result.jobId})` : ''}`];
  context.output.result(result, lines);
  return result;
}
