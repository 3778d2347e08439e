// `tally counts verify [--fix]`: compares every author's column with COUNT(*) and Redis with the
// column, in chunks, and lists every author that drifts. --fix repairs the column through
// tally.refresh_books_counts (exact while writes continue) and Redis through the versioned
// compare-and-set, so a repair never overwrites a newer count.
import { mirrorCounts, type CountChange } from '@tally/cache';
import { countAuthors, refreshBooksCounts } from '@tally/db';
import type { CliContext } from '../context.js';
import { ExitCode } from '../errors.js';
import { readAuthorCounts } from '../author-counts.js';
import { isRedisDrift, judge, type AuthorCounts, type ColumnState, type RedisState } from '../count-agreement.js';

export interface VerifyOptions {
  fix: boolean;
  chunkSize: number;
}

export interface DriftingAuthor {
  authorId: number;
  column: { booksCount: number | null; version: number };
  count: number;
  redis: { booksCount: number; version: number } | null;
  columnState: ColumnState;
  redisState: RedisState;
  /** With --fix: the repaired count and version written to the column and Redis. */
  repaired?: { booksCount: number | null; version: number };
}

export interface VerifyResult {
  checked: number;
  drifting: DriftingAuthor[];
  notComputed: number;
  catchingUp: number;
  fixed: boolean;
  ok: boolean;
}

async function repair(context: CliContext, drifting: readonly { counts: AuthorCounts; entry: DriftingAuthor }[]): Promise<void> {
  const db = await context.database();
  const redis = await context.redis();
  const columnIds = drifting.filter(({ entry }) => entry.columnState === 'drift').map(({ entry }) => entry.authorId);
  const refreshed = new Map((await refreshBooksCounts(db, columnIds)).map((row) => [row.authorId, row]));
  const changes: CountChange[] = [];
  for (const { counts, entry } of drifting) {
    const fresh = refreshed.get(entry.authorId);
    if (fresh) {
      changes.push({ authorId: fresh.authorId, booksCount: fresh.booksCount, version: fresh.version });
      entry.repaired = { booksCount: fresh.booksCount, version: fresh.version };
      continue;
    }
    // Redis drift at the column's version: remove what Redis holds up to that version, then write
    // the column. Both steps are version-guarded, so a newer count the relay writes meanwhile wins.
    changes.push({ authorId: counts.authorId, booksCount: null, version: counts.version });
    if (counts.booksCount !== null) changes.push({ authorId: counts.authorId, booksCount: counts.booksCount, version: counts.version });
    entry.repaired = { booksCount: counts.booksCount, version: counts.version };
  }
  await mirrorCounts(redis, context.keys, changes);
}

export async function runVerify(context: CliContext, options: VerifyOptions): Promise<{ result: VerifyResult; exitCode: ExitCode }> {
  const db = await context.database();
  const redis = await context.redis();
  let total = await countAuthors(db);
  const progress = context.output.progress('authors', total);
  const result: VerifyResult = { checked: 0, drifting: [], notComputed: 0, catchingUp: 0, fixed: options.fix, ok: true };
  try {
    let afterId = 0;
    for (;;) {
      const chunk = await readAuthorCounts(db, redis, context.keys, { afterId, limit: options.chunkSize });
      if (chunk.length === 0) break;
      afterId = chunk.at(-1)!.authorId;
      const found: { counts: AuthorCounts; entry: DriftingAuthor }[] = [];
      for (const counts of chunk) {
        const agreement = judge(counts);
        if (agreement.column === 'not-computed') result.notComputed += 1;
        if (agreement.redis === 'catching-up') result.catchingUp += 1;
        if (agreement.agrees) continue;
        found.push({
          counts,
          entry: {
            authorId: counts.authorId,
            column: { booksCount: counts.booksCount, version: counts.version },
            count: counts.actualCount,
            redis: counts.redis ?? null,
            columnState: agreement.column,
            redisState: agreement.redis,
          },
        });
      }
      if (options.fix && found.length > 0) await repair(context, found);
      result.drifting.push(...found.map(({ entry }) => entry));
      result.checked += chunk.length;
      // Authors added while the scan runs are checked too; the bar's total follows them.
      if (result.checked > total) progress.setTotal((total = result.checked));
      progress.update(result.checked);
    }
  } finally {
    progress.stop();
  }
  result.ok = result.drifting.length === 0 || options.fix;
  context.output.result(result, describe(result));
  return { result, exitCode: result.ok ? ExitCode.ok : ExitCode.drift };
}

function describe(result: VerifyResult): string[] {
  const lines = result.drifting.map((entry) => {
    const problems: string[] = [];
    if (entry.columnState === 'drift') problems.push(`column ${entry.column.booksCount} but COUNT(*) ${entry.count}`);
    if (isRedisDrift(entry.redisState)) {
      const redis = entry.redis ? `${entry.redis.booksCount} (version ${entry.redis.version})` : 'no entry';
      problems.push(`Redis ${redis} but column ${entry.column.booksCount ?? 'NULL'} (version ${entry.column.version}): ${entry.redisState}`);
    }
    const repaired = entry.repaired ? `; repaired to ${entry.repaired.booksCount ?? 'NULL'} (version ${entry.repaired.version})` : '';
    return `author ${entry.authorId}: ${problems.join('; ')}${repaired}`;
  });
  const columnDrift = result.drifting.filter((entry) => entry.columnState === 'drift').length;
  const redisDrift = result.drifting.filter((entry) => isRedisDrift(entry.redisState)).length;
  let summary = `Checked ${result.checked} authors: ${result.drifting.length} drifting (${columnDrift} column, ${redisDrift} Redis)`;
  if (result.catchingUp > 0) summary += `, ${result.catchingUp} waiting for the worker to mirror`;
  if (result.notComputed > 0) summary += `, ${result.notComputed} not computed yet (run \`tally counts backfill\`)`;
  if (result.drifting.length > 0) summary += result.fixed ? '. All repaired.' : '. Run `tally counts verify --fix` to repair.';
  return [...lines, summary];
}
