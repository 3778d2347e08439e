// `tally outbox status`: how far the relay is behind (backlog, oldest change), whether the API may
// serve Redis counts (heartbeat), which workers are alive, and the BullMQ queues.
import { readHeartbeat, scanKeys } from '@tally/cache';
import { readOutboxBacklog } from '@tally/db';
import type { CliContext } from '../context.js';
import { readQueueCounts, type JobCounts } from '../queue-counts.js';

export interface WorkerSeen {
  id: string;
  /** Milliseconds before the key expires unless the worker renews it. */
  ttlMs: number;
  /** What the worker published about itself (JSON), or its raw value. */
  details: unknown;
}

export interface OutboxStatus {
  backlog: number;
  oldestAgeMs: number;
  heartbeat: { fresh: boolean; ttlMs: number; worker: string | null; lagMs: number | null; at: string | null };
  /** Whether Redis holds the relay's epoch: missing means Redis lost data and awaits a re-mirror. */
  epoch: boolean;
  workers: WorkerSeen[];
  queues: Record<string, JobCounts>;
}

async function workersSeen(context: CliContext): Promise<WorkerSeen[]> {
  const redis = await context.redis();
  const workers: WorkerSeen[] = [];
  let pages = 0;
  // One live key per worker process, scanned in pages on every master; bounded all the same.
  for await (const found of scanKeys(redis, context.keys.workerPattern, { count: 500 })) {
    for (const key of found) {
      const [value, ttl] = await Promise.all([redis.get(key), redis.pttl(key)]);
      if (value === null) continue;
      let details: unknown = value;
      try {
        details = JSON.parse(value);
      } catch {
        // Not JSON: shown as written.
      }
      workers.push({ id: key.slice(context.keys.worker('').length), ttlMs: Math.max(ttl, 0), details });
    }
    pages += 1;
    if (pages >= 1000) break;
  }
  return workers.sort((a, b) => a.id.localeCompare(b.id));
}

export async function runOutboxStatus(context: CliContext): Promise<OutboxStatus> {
  const db = await context.database();
  const redis = await context.redis();
  const [backlog, heartbeat, epoch, workers, queues] = await Promise.all([
    readOutboxBacklog(db),
    readHeartbeat(redis, context.keys),
    redis.exists(context.keys.relayEpoch),
    workersSeen(context),
    readQueueCounts(redis, context.keys),
  ]);
  const status: OutboxStatus = {
    backlog: backlog.pending,
    oldestAgeMs: Math.round(backlog.oldestAgeMs),
    heartbeat: {
      fresh: heartbeat !== undefined,
      ttlMs: heartbeat?.ttlMs ?? 0,
      worker: heartbeat?.worker ?? null,
      lagMs: heartbeat?.lagMs ?? null,
      at: heartbeat?.at ?? null,
    },
    epoch: epoch === 1,
    workers,
    queues,
  };
  const jobs = (counts: JobCounts | undefined) =>
    counts ? Object.entries(counts).map(([state, n]) => `${n} ${state}`).join(', ') : 'unknown';
  context.output.result(status, [
    `outbox     ${status.backlog} change(s) waiting${status.backlog > 0 ? `, oldest ${status.oldestAgeMs} ms old` : ''}`,
    `heartbeat  ${status.heartbeat.fresh ? `fresh for ${status.heartbeat.ttlMs} ms more, written by ${status.heartbeat.worker} (lag ${status.heartbeat.lagMs} ms)` : 'missing: the API serves counts from the column (worker down, behind, or rebuilding Redis)'}`,
    `epoch      ${status.epoch ? 'present' : 'missing: Redis has not been fully mirrored since it started or lost data'}`,
    `workers    ${status.workers.length === 0 ? 'none seen' : status.workers.map((worker) => worker.id).join(', ')}`,
    ...Object.entries(status.queues).map(([name, counts]) => `queue      ${name}: ${jobs(counts)}`),
  ]);
  return status;
}
