// A Redis key prefix per test file on the shared Redis, removed at the end. Tests that stop,
// flush or restart Redis use a private server instead (redis-server.ts), never the shared one.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { Redis } from 'ioredis';
import { deleteKeysUnder } from '../../packages/cache/src/prefix-keys.js';
import type { RedisClient } from '../../packages/cache/src/redis-client.js';
import { defineScripts } from '../../packages/cache/src/scripts.js';
import { redisKeys, type RedisKeys } from '../../packages/cache/src/keys.js';
import { TEST_REDIS_URL } from './environment.js';

export interface TestRedis {
  readonly url: string;
  readonly prefix: string;
  readonly keys: RedisKeys;
  /** The harness's own connection, with the service's scripts defined. */
  readonly redis: Redis;
}

export function uniquePrefix(): string {
  return `tally-test:${randomBytes(5).toString('hex')}:`;
}

/** Deletes every key under `prefix` (BullMQ's and the relay's keys start with it too), on every master of a cluster. */
export async function deletePrefix(redis: RedisClient, prefix: string): Promise<void> {
  await deleteKeysUnder(redis, prefix);
}

export function useTestRedis(url: string = TEST_REDIS_URL): TestRedis {
  const prefix = uniquePrefix();
  let redis: Redis | undefined;
  beforeAll(() => {
    redis = defineScripts(new Redis(url, { maxRetriesPerRequest: 1 }));
    redis.on('error', () => {});
  });
  afterAll(async () => {
    if (!redis) return;
    await deletePrefix(redis, prefix).catch(() => {});
    redis.disconnect();
  });
  return {
    url,
    prefix,
    keys: redisKeys(prefix),
    get redis() {
      if (!redis) throw new Error('the test Redis connection exists only inside tests and hooks');
      return redis;
    },
  };
}
