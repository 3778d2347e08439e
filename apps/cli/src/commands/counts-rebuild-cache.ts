// `tally counts rebuild-cache`: re-mirror every author's count from the column into Redis through
// the worker's rebuild, which withdraws the heartbeat meanwhile (the API serves the column) and
// commits a new epoch at the end. Safe beside running workers: every write is version-guarded.
import { rebuildCache, type RebuildProgress, type RebuildResult } from '@tally/worker';
import { countAuthors } from '@tally/db';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';

export async function runRebuildCache(context: CliContext): Promise<RebuildResult> {
  const [pool, redis] = [await context.database(), await context.redis()];
  const progress = context.output.progress('authors', await countAuthors(pool));
  let result: RebuildResult;
  try {
    result = await rebuildCache(
      { pool, redis, keys: context.keys },
      { onProgress: (step: RebuildProgress) => progress.update(step.authors) },
    );
  } finally {
    progress.stop();
  }
  if (!result.committed) {
    context.output.result(result, []);
    throw new CliError(
      `Re-mirrored ${result.authors} author(s), but the new epoch was not committed: Redis lost data again or another ` +
        'rebuild took over meanwhile. Run `tally counts rebuild-cache` again.',
    );
  }
  context.output.result(result, [
    `Re-mirrored ${result.authors} author(s) into Redis: ${result.written} written, ${result.removed} removed, ` +
      `${result.unchanged} already current, ${result.orphansRemoved} orphan key(s) removed`,
  ]);
  return result;
}
