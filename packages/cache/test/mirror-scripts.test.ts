import { describe, expect, it } from 'vitest';
import { useTestRedis } from '../../../test/support/redis.js';
import { mirrorCounts, readMirroredCount } from '../src/counts.js';
import { heartbeatTtlMs, publishHeartbeat, readHeartbeat } from '../src/heartbeat.js';
import { redisKeys } from '../src/keys.js';

const cache = useTestRedis();

describe('version-guarded writes to Redis', () => {
  it('replayed and reordered versions never move a count backwards', async () => {
    const applied: number[] = [];
    for (const version of [5, 3, 5, 7, 6]) {
      const result = await mirrorCounts(cache.redis, cache.keys, [{ authorId: 1, booksCount: version * 10, version }]);
      applied.push(result.written);
    }
    expect(applied).toEqual([1, 0, 0, 1, 0]);
    expect(await readMirroredCount(cache.redis, cache.keys, 1)).toEqual({ booksCount: 70, version: 7 });
  });

  it('an equal-version replay is a no-op, even with another count', async () => {
    await mirrorCounts(cache.redis, cache.keys, [{ authorId: 10, booksCount: 4, version: 9 }]);
    const replay = await mirrorCounts(cache.redis, cache.keys, [{ authorId: 10, booksCount: 999, version: 9 }]);
    expect(replay).toEqual({ written: 0, removed: 0, unchanged: 1 });
    expect(await readMirroredCount(cache.redis, cache.keys, 10)).toEqual({ booksCount: 4, version: 9 });
  });

  it('compares versions as decimal strings, exact past 2^53', async () => {
    await mirrorCounts(cache.redis, cache.keys, [{ authorId: 2, booksCount: 1, version: 9 }]);
    await mirrorCounts(cache.redis, cache.keys, [{ authorId: 2, booksCount: 2, version: 10 }]);
    expect(await readMirroredCount(cache.redis, cache.keys, 2)).toEqual({ booksCount: 2, version: 10 });
    // Beyond 2^53 Lua doubles would treat these as equal; string comparison orders them.
    const key = cache.keys.author(3);
    expect(await cache.redis.tallyMirrorCount(key, '1', '9007199254740993')).toBe(1);
    expect(await cache.redis.tallyMirrorCount(key, '2', '9007199254740992')).toBe(0);
    expect(await cache.redis.tallyMirrorCount(key, '3', '9007199254740994')).toBe(1);
    expect(await cache.redis.hget(key, 'books_count')).toBe('3');
  });

  it('removes a key only when it holds no newer version than the removal', async () => {
    await mirrorCounts(cache.redis, cache.keys, [{ authorId: 4, booksCount: 3, version: 20 }]);
    expect(await mirrorCounts(cache.redis, cache.keys, [{ authorId: 4, booksCount: null, version: 19 }])).toMatchObject({ removed: 0 });
    expect(await cache.redis.exists(cache.keys.author(4))).toBe(1);
    expect(await mirrorCounts(cache.redis, cache.keys, [{ authorId: 4, booksCount: null, version: 20 }])).toMatchObject({ removed: 1 });
    expect(await cache.redis.exists(cache.keys.author(4))).toBe(0);
  });

  it('stores the documented, human-readable hash', async () => {
    await mirrorCounts(cache.redis, cache.keys, [{ authorId: 42, booksCount: 1234, version: 77 }]);
    expect(cache.keys.author(42)).toBe(`${cache.prefix}author:42`);
    expect(await cache.redis.hgetall(cache.keys.author(42))).toEqual({ books_count: '1234', version: '77' });
    expect(redisKeys('tally:').author(42)).toBe('tally:author:42');
  });

  it('replaces whatever blocks a key (another type, a version that is not a number) instead of failing every write', async () => {
    await cache.redis.set(cache.keys.author(6), 'written by hand');
    expect(await mirrorCounts(cache.redis, cache.keys, [{ authorId: 6, booksCount: 3, version: 4 }])).toMatchObject({ written: 1 });
    expect(await cache.redis.hgetall(cache.keys.author(6))).toEqual({ books_count: '3', version: '4' });

    await cache.redis.hset(cache.keys.author(7), 'books_count', '1', 'version', 'latest', 'note', 'x');
    expect(await mirrorCounts(cache.redis, cache.keys, [{ authorId: 7, booksCount: 2, version: 1 }])).toMatchObject({ written: 1 });
    expect(await cache.redis.hgetall(cache.keys.author(7))).toEqual({ books_count: '2', version: '1' });

    await cache.redis.rpush(cache.keys.author(8), 'a list');
    expect(await mirrorCounts(cache.redis, cache.keys, [{ authorId: 8, booksCount: null, version: 1 }])).toMatchObject({ removed: 1 });
    expect(await cache.redis.exists(cache.keys.author(8))).toBe(0);
  });

  it('ignores a malformed hash instead of serving it', async () => {
    await cache.redis.hset(cache.keys.author(5), 'books_count', 'lots', 'version', '1');
    expect(await readMirroredCount(cache.redis, cache.keys, 5)).toBeUndefined();
    await cache.redis.set(cache.keys.author(9), 'not a hash');
    expect(await readMirroredCount(cache.redis, cache.keys, 9)).toBeUndefined();
  });

  it('the heartbeat exists for its TTL and can be withdrawn', async () => {
    const details = { worker: 'test:1', lagMs: 5, backlog: 0, at: new Date().toISOString() };
    await publishHeartbeat(cache.redis, cache.keys, 1500, details);
    expect(await heartbeatTtlMs(cache.redis, cache.keys)).toBeGreaterThan(1000);
    expect(await readHeartbeat(cache.redis, cache.keys)).toMatchObject({ worker: 'test:1', lagMs: 5 });
    await publishHeartbeat(cache.redis, cache.keys, -10, details);
    expect(await heartbeatTtlMs(cache.redis, cache.keys)).toBe(0);
    expect(await readHeartbeat(cache.redis, cache.keys)).toBeUndefined();
  });
});
