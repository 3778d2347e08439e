// Redis author keys whose author no longer exists: a removal lost to a Redis restart that replayed
// an older AOF, or a key written by hand. Removed through the version-guarded script, so a key a
// relay rewrote meanwhile for a live author (ids can be reused) survives.
import { mirrorCounts, pipelineByNode, scanKeys, type CountChange } from '@tally/cache';
import { existingAuthorIds } from '@tally/db';
import type { RelayContext } from './outbox-relay.js';

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** Scans every author key (every master of a cluster) and removes those of missing authors; returns how many it removed. */
export async function removeOrphanKeys(context: RelayContext, options: { scanCount?: number } = {}): Promise<number> {
  let removed = 0;
  for await (const found of scanKeys(context.redis, context.keys.authorPattern, { count: options.scanCount ?? 1000 })) {
    const candidates = found.flatMap((key) => {
      const authorId = context.keys.authorIdOf(key);
      return authorId === undefined ? [] : [{ key, authorId }];
    });
    if (candidates.length === 0) continue;
    // Versions first, existence second: a version read before the author was found missing can
    // only be older than anything written for a later author with the same id.
    const versions = await pipelineByNode(
      context.redis,
      candidates.map((candidate) => candidate.key),
      (pipeline, key) => pipeline.hget(key, 'version'),
    );
    const existing = await existingAuthorIds(context.pool, candidates.map((candidate) => candidate.authorId));
    const removals: CountChange[] = [];
    candidates.forEach(({ authorId }, index) => {
      const [error, version] = versions[index] ?? [null, null];
      if (error || existing.has(authorId) || typeof version !== 'string' || !DECIMAL.test(version)) return;
      removals.push({ authorId, booksCount: null, version: Number(version) });
    });
    removed += (await mirrorCounts(context.redis, context.keys, removals)).removed;
  }
  return removed;
}
