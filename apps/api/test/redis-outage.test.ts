// Redis failures at request time, on a private redis-server this file may kill (the shared one
// serves other test files): counts come from the column, no request fails, readiness says why,
// and Redis counts come back when Redis does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { defineScripts, mirrorCounts, publishHeartbeat, redisKeys } from '@tally/cache';
import { forgetBooksCounts } from '@tally/db';
import { freePort, startRedisServer, uniquePrefix, useTestDatabase, useTestRedis, type RedisServer } from '@tally/test-support';
import { authorWithBooks, useApps } from './helpers.js';

const db = useTestDatabase();
const sharedRedis = useTestRedis();
const buildApi = useApps(db, sharedRedis);
type Api = Awaited<ReturnType<typeof buildApi>>;

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.destroy();
});

const prefix = uniquePrefix();
const keys = redisKeys(prefix);

async function withPrivateRedis<T>(work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = defineScripts(new Redis(server.url, { maxRetriesPerRequest: 1 }));
  redis.on('error', () => {});
  try {
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

/** Plays a caught-up worker on the private server: heartbeat plus the author's count. */
async function freshWorker(authorId: number, count: number): Promise<void> {
  await withPrivateRedis(async (redis) => {
    await mirrorCounts(redis, keys, [{ authorId, booksCount: count, version: 1_000_000 }]);
    await publishHeartbeat(redis, keys, 60_000, { worker: 'test:1', lagMs: 0, backlog: 0, at: new Date().toISOString() });
  });
}

async function countSource(api: Api, authorId: number): Promise<{ status: number; source: unknown; count: unknown }> {
  const response = await api.inject({ method: 'GET', url: `/authors/${authorId}/books` });
  return { status: response.statusCode, source: response.headers['x-count-source'], count: response.json().count };
}

describe('when Redis goes away', () => {
  it('serves counts from the column while Redis is down, and from Redis again once it is back', async () => {
    const { id } = await authorWithBooks(db.pool, 'Ann', 5);
    await freshWorker(id, 5);
    const api = await buildApi({ REDIS_URL: server.url, REDIS_PREFIX: prefix });
    expect(await countSource(api, id)).toEqual({ status: 200, source: 'redis', count: 5 });

    await server.stop('kill');
    try {
      for (let request = 0; request < 30; request += 1) {
        expect(await countSource(api, id)).toEqual({ status: 200, source: 'column', count: 5 });
      }
      // The watch polls in the background; a poll sent just before the kill may still be waiting
      // out its command timeout. One more poll settles what /ready reports.
      await api.heartbeat.refresh();
      const ready = await api.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'unavailable', postgres: 'ok', redis_counts: 'stale' });
      expect(ready.json().redis).not.toBe('ok');
    } finally {
      // Restarted even when an assertion failed, so the next test finds its server.
      await server.start();
    }
    await freshWorker(id, 5);
    let source: unknown = 'column';
    for (let attempt = 0; attempt < 100 && source !== 'redis'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      source = (await countSource(api, id)).source;
    }
    expect(source).toBe('redis');
    expect((await api.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  });

  it('serves counts from the column while Redis hangs (alive but not answering)', async () => {
    const { id } = await authorWithBooks(db.pool, 'Ann', 5);
    await freshWorker(id, 5);
    const api = await buildApi({ REDIS_URL: server.url, REDIS_PREFIX: prefix });
    expect((await countSource(api, id)).source).toBe('redis');
    const sleeper = new Redis(server.url);
    sleeper.on('error', () => {});
    const sleeping = sleeper.call('DEBUG', 'SLEEP', '1.5').catch(() => undefined);
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (let request = 0; request < 5; request += 1) {
        expect(await countSource(api, id)).toEqual({ status: 200, source: 'column', count: 5 });
      }
    } finally {
      await sleeping;
      sleeper.disconnect();
    }
  });

  it('starts and serves with Redis unreachable from the start, COUNT fallback and writes included', async () => {
    const closedPort = await freePort();
    const api = await buildApi({ REDIS_URL: `redis://127.0.0.1:${closedPort}/0` });
    const { id } = await authorWithBooks(db.pool, 'Ann', 5);
    expect(await countSource(api, id)).toEqual({ status: 200, source: 'column', count: 5 });

    await forgetBooksCounts(db.pool, [id]);
    expect(await countSource(api, id)).toEqual({ status: 200, source: 'count', count: 5 });
    const metrics = (await api.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('tally_api_backfill_requests_total{outcome="skipped_redis_down"} 1');

    const created = await api.inject({ method: 'POST', url: '/books', payload: { author_id: id, title: 'x' } });
    expect(created.statusCode).toBe(201);
    expect(await countSource(api, id)).toEqual({ status: 200, source: 'column', count: 6 });
    expect((await api.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
  });
});
