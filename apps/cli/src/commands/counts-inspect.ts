// `tally counts inspect <author>`: one author's count in Redis, in the column and by COUNT(*),
// with versions, the heartbeat, and whether they agree.
import { readHeartbeat } from '@tally/cache';
import { CliError } from '../errors.js';
import type { CliContext } from '../context.js';
import { readAuthorCounts } from '../author-counts.js';
import { judge, type ColumnState, type RedisState } from '../count-agreement.js';

export interface InspectResult {
  authorId: number;
  redis: { booksCount: number; version: number } | null;
  column: { booksCount: number | null; version: number };
  count: number;
  /** Outbox rows of this author not yet mirrored. */
  pending: boolean;
  heartbeat: { fresh: boolean; ttlMs: number; worker: string | null; lagMs: number | null };
  columnState: ColumnState;
  redisState: RedisState;
  agrees: boolean;
  /** Where the API would answer from now (ignoring COUNT_SOURCES narrowing). */
  servedFrom: 'redis' | 'column' | 'count';
}

export async function runInspect(context: CliContext, authorId: number): Promise<InspectResult> {
  const db = await context.database();
  const redis = await context.redis();
  const [counts] = await readAuthorCounts(db, redis, context.keys, { afterId: authorId - 1, limit: 1 });
  if (!counts || counts.authorId !== authorId) throw new CliError(`Author ${authorId} does not exist`);
  const heartbeat = await readHeartbeat(redis, context.keys);
  const agreement = judge(counts);
  const result: InspectResult = {
    authorId,
    redis: counts.redis ?? null,
    column: { booksCount: counts.booksCount, version: counts.version },
    count: counts.actualCount,
    pending: counts.pending,
    heartbeat: {
      fresh: heartbeat !== undefined,
      ttlMs: heartbeat?.ttlMs ?? 0,
      worker: heartbeat?.worker ?? null,
      lagMs: heartbeat?.lagMs ?? null,
    },
    columnState: agreement.column,
    redisState: agreement.redis,
    agrees: agreement.agrees,
    servedFrom: heartbeat && counts.redis ? 'redis' : counts.booksCount !== null ? 'column' : 'count',
  };
  const show = (count: number | null | undefined, version?: number) =>
    count === undefined ? 'no entry' : `${count ?? 'NULL (not computed)'}${version === undefined ? '' : ` (version ${version})`}`;
  context.output.result(result, [
    `author ${authorId}`,
    `  redis     ${show(result.redis?.booksCount, result.redis?.version)}  ${result.redisState}`,
    `  column    ${show(result.column.booksCount, result.column.version)}  ${result.columnState}`,
    `  COUNT(*)  ${result.count}`,
    `  outbox    ${result.pending ? 'a change is waiting to be mirrored' : 'nothing pending'}`,
    `  heartbeat ${result.heartbeat.fresh ? `fresh for ${result.heartbeat.ttlMs} ms more (worker ${result.heartbeat.worker}, lag ${result.heartbeat.lagMs} ms)` : 'missing: the API serves the column, not Redis'}`,
    `  served from ${result.servedFrom}; ${result.agrees ? 'counts agree' : 'DRIFT: run `tally counts verify --fix`'}`,
  ]);
  return result;
}
