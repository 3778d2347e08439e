// BullMQ queue names, job ids and payloads shared by the producers (API, CLI) and the worker.

export const BACKFILL_QUEUE = 'backfill';
export const RECONCILE_QUEUE = 'reconcile';
/** Id of the job scheduler that adds a reconcile job every RECONCILE_INTERVAL_MS. */
export const RECONCILE_SCHEDULER_ID = 'reconcile-every-interval';

/** A backfill job: compute these authors' NULL counts, or every NULL count when authorIds is absent. */
export interface BackfillJobData {
  authorIds?: number[];
  /** Who asked, for the dashboard and logs. */
  reason: 'api-count-fallback' | 'cli' | 'worker-start';
  /** Resume point the worker records after each chunk, so a retried job skips finished work. */
  afterId?: number;
}

/** A reconcile job: compare Redis, column and COUNT for every author (or a range), repair, report. */
export interface ReconcileJobData {
  /** Start after this author id (resumable chunks); 0 or absent scans from the start. */
  afterId?: number;
}

/**
 * Job id that deduplicates backfills of one author while one is waiting. BullMQ ids must not
 * contain ':' nor be all digits. Dedup is an optimisation only: backfill is idempotent.
 */
export const backfillJobId = (authorId: number): string => `author-${authorId}`;
export const BACKFILL_ALL_JOB_ID = 'all-unknown-counts';

/**
 * Job options every producer passes (Queue.add, the reconcile scheduler's template): retries with
 * exponential backoff (1 s, 2 s, 4 s, ...) and a bounded history kept for the dashboard.
 */
export const JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
} as const;

/** Name of every backfill job (the dashboard shows it). */
export const BACKFILL_JOB_NAME = 'backfill';

/**
 * Options of backfills queued under a deduplicating job id (`backfillJobId`, BACKFILL_ALL_JOB_ID):
 * the same retries, but removed once done, so a count forgotten later can be queued again under
 * the same id (the id deduplicates only a job still waiting or running).
 */
export const DEDUPLICATED_BACKFILL_OPTIONS = {
  attempts: JOB_OPTIONS.attempts,
  backoff: JOB_OPTIONS.backoff,
  removeOnComplete: true,
  removeOnFail: true,
} as const;
