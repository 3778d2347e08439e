// The version guard at script level: whatever order or how often a change arrives, Redis keeps
// the newest version. These are the guarantees the relay's at-least-once delivery relies on.
import { describe, expect, it } from 'vitest';
import { mirrorCounts, readMirroredCount } from '@tally/cache';
import { useTestRedis } from '../../../test/support/redis.js';

const cache = useTestRedis();

describe('version-guarded Redis writes', () => {
  it('replayed and reordered versions [5, 3, 5, 7, 6] leave the count of version 7', async () => {
    const outcomes: number[] = [];
    for (const version of [5, 3, 5, 7, 6]) {
      const result = await mirrorCounts(cache.redis, cache.keys, [{ authorId: 1, booksCount: version * 10, version }]);
      outcomes.push(result.written);
    }
    expect(outcomes).toEqual([1, 0, 0, 1, 0]);
    expect(await readMirroredCount(cache.redis, cache.keys, 1)).toEqual({ booksCount: 70, version: 7 });
    expect(await cache.redis.hgetall(cache.keys.author(1))).toEqual({ books_count: '70', version: '7' });
  });

  it('an equal-version replay is a no-op, even with another count', async () => {
    await mirrorCounts(cache.redis, cache.keys, [{ authorId: 2, booksCount: 4, version: 9 }]);
    const replay = await mirrorCounts(cache.redis, cache.keys, [{ authorId: 2, booksCount: 999, version: 9 }]);
    expect(replay).toEqual({ written: 0, removed: 0, unchanged: 1 });
    expect(await readMirroredCount(cache.redis, cache.keys, 2)).toEqual({ booksCount: 4, version: 9 });
  });

  it('versions past 2^53 are compared exactly, as decimal strings', async () => {
    const key = cache.keys.author(3);
    await cache.redis.tallyMirrorCount(key, '1', '9007199254740993');
    expect(await cache.redis.tallyMirrorCount(key, '2', '9007199254740992')).toBe(0);
    expect(await cache.redis.tallyMirrorCount(key, '3', '10000000000000000')).toBe(1);
    expect(await cache.redis.hget(key, 'version')).toBe('10000000000000000');
  });

  it('a removal deletes the key only up to its version; a stale removal keeps a newer count', async () => {
    await mirrorCounts(cache.redis, cache.keys, [{ authorId: 4, booksCount: 3, version: 20 }]);
    expect(await mirrorCounts(cache.redis, cache.keys, [{ authorId: 4, booksCount: null, version: 19 }])).toMatchObject({ removed: 0, unchanged: 1 });
    expect(await readMirroredCount(cache.redis, cache.keys, 4)).toEqual({ booksCount: 3, version: 20 });
    expect(await mirrorCounts(cache.redis, cache.keys, [{ authorId: 4, booksCount: null, version: 20 }])).toMatchObject({ removed: 1 });
    expect(await cache.redis.exists(cache.keys.author(4))).toBe(0);
  });
});
