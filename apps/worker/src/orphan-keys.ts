// Redis author keys whose author no longer exists: a removal lost to a Redis restart that replayed
// an older AOF, or a key written by hand. Removed through the version-guarded script, so a key a
// relay rewrote meanwhile for a live author (ids can be reused) survives.
import { mirrorCounts, type CountChange } from '@tally/cache';
import { existingAuthorIds } from '@tally/db';
import type { RelayContext } from './outbox-relay.js';

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** Scans every author key and removes those of missing authors; returns how many it removed. */
export async function removeOrphanKeys(context: RelayContext, options: { scanCount?: number } = {}): Promise<number> {
  let removed = 0;
  let cursor = '0';
  do {
    const [next, found] = await context.redis.scan(cursor, 'MATCH', context.keys.authorPattern, 'COUNT', options.scanCount ?? 1000);
    cursor = next;
    const candidates = found.flatMap((key) => {
      const authorId = context.keys.authorIdOf(key);
      return authorId === undefined ? [] : [{ key, authorId }];
    });
    if (candidates.length === 0) continue;
    // Versions first, existence second: a version read before the author was found missing can
    // only be older than anything written for a later author with the same id.
    const pipeline = context.redis.pipeline();
    for (const { key } of candidates) pipeline.hget(key, 'version');
    const versions = (await pipeline.exec()) ?? [];
    const existing = await existingAuthorIds(context.pool, candidates.map((candidate) => candidate.authorId));
    const removals: CountChange[] = [];
    candidates.forEach(({ authorId }, index) => {
      const [error, version] = versions[index] ?? [null, null];
      if (error || existing.has(authorId) || typeof version !== 'string' || !DECIMAL.test(version)) return;
      removals.push({ authorId, booksCount: null, version: Number(version) });
    });
    removed += (await mirrorCounts(context.redis, context.keys, removals)).removed;
  } while (cursor !== '0');
  return removed;
}
