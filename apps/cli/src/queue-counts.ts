// Job counts of the service's BullMQ queues, for `tally outbox status`.
import { BACKFILL_QUEUE, RECONCILE_QUEUE, type RedisClient, type RedisKeys } from '@tally/cache';
import { Queue } from 'bullmq';

export type JobCounts = Record<string, number>;

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

export async function readQueueCounts(redis: RedisClient, keys: RedisKeys): Promise<Record<string, JobCounts>> {
  const counts: Record<string, JobCounts> = {};
  for (const name of [BACKFILL_QUEUE, RECONCILE_QUEUE]) {
    // A connection passed in is shared: closing the queue leaves it open for the caller.
    const queue = new Queue(name, { connection: redis, prefix: keys.bullPrefix });
    try {
      counts[name] = await queue.getJobCounts(...STATES);
    } finally {
      await queue.close();
    }
  }
  return counts;
}
