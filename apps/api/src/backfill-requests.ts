// Asks the worker to compute counts the API had to COUNT(*) itself. Fire and forget: a request
// never waits for or fails because of the queue. The job id deduplicates an author's backfills
// while one is waiting; completed and failed jobs are removed so a later NULL count (after
// forget_books_counts) can be queued again under the same id.
import type { FastifyBaseLogger } from 'fastify';
import type { Queue } from 'bullmq';
import {
  BACKFILL_ALL_JOB_ID,
  BACKFILL_JOB_NAME,
  DEDUPLICATED_BACKFILL_OPTIONS,
  backfillJobId,
  type BackfillJobData,
  type RedisClient,
} from '@tally/cache';
import type { ApiMetrics } from './metrics.js';

export class BackfillRequests {
  constructor(
    private readonly queue: Queue<BackfillJobData>,
    private readonly connection: RedisClient,
    private readonly metrics: ApiMetrics,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Queues a backfill of one author, or of every unknown count when `authorId` is 'all'. */
  request(authorId: number | 'all'): void {
    // The producer connection has no offline queue; while Redis is down, skip instead of piling
    // up adds (the worker's own start-up backfill and reconcile cover the gap).
    if (this.connection.status !== 'ready') {
      this.metrics.backfillRequests.labels('skipped_redis_down').inc();
      return;
    }
    const data: BackfillJobData =
      authorId === 'all' ? { reason: 'api-count-fallback' } : { authorIds: [authorId], reason: 'api-count-fallback' };
    const jobId = authorId === 'all' ? BACKFILL_ALL_JOB_ID : backfillJobId(authorId);
    this.queue.add(BACKFILL_JOB_NAME, data, { ...DEDUPLICATED_BACKFILL_OPTIONS, jobId }).then(
      () => this.metrics.backfillRequests.labels('queued').inc(),
      (error: unknown) => {
        this.metrics.backfillRequests.labels('failed').inc();
        this.log.warn({ err: error, authorId }, 'could not queue a backfill job; the count stays on the COUNT(*) fallback until one runs');
      },
    );
  }
}
