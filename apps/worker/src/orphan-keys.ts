// Redis author keys whose author no longer exists: a removal lost to a Redis restart that replayed
// an older AOF, or a key written by hand. Removed through the version-guarded script, so a key a
// relay rewrote meanwhile for a live author (ids can be reused) survives.
import { mirrorCounts, parseMirroredNumber, pipelineByNode, scanKeys, type CountChange } from '@tally/cache';
import { existingAuthorIds } from '@tally/db';
import type { RelayContext } from './outbox-relay.js';

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
      if (existing.has(authorId)) return;
      const [error, version] = versions[index] ?? [null, null];
      // A key of another type (the HGET failed) or a malformed version is removed whatever it
      // holds; a well-formed one only up to the version read (the script refuses newer ones).
      removals.push({ authorId, booksCount: null, version: (error ? undefined : parseMirroredNumber(version as string | null)) ?? 0 });
    });
    removed += (await mirrorCounts(context.redis, context.keys, removals)).removed;
  }
  return removed;
}
