// One place that decides how each part of the service talks to Redis. The defaults of ioredis
// wait (offline queue, 20 retries, no timeouts); each role below says what it needs instead.
import { Redis, type RedisOptions } from 'ioredis';
import { defineScripts } from './scripts.js';

export type RedisRole =
  /** The API's count lookups: fail within ~100 ms so the request falls back to the column. */
  | 'api'
  /** The relay's mirror writes: wait briefly through a reconnect, then fail so the batch rolls back. */
  | 'relay'
  /** BullMQ workers and blocking clients: BullMQ requires maxRetriesPerRequest null. */
  | 'queue'
  /** BullMQ producers inside HTTP requests: fail fast instead of queueing while Redis is down. */
  | 'producer'
  /** CLI commands: a few quick attempts, then a clear error. */
  | 'tool';

const reconnectWithBackoff = (attempt: number): number => Math.min(50 * 2 ** attempt, 2000);

const roleOptions: Record<RedisRole, RedisOptions> = {
  api: {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 100,
    connectTimeout: 1000,
    retryStrategy: reconnectWithBackoff,
  },
  relay: {
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    commandTimeout: 5000,
    connectTimeout: 2000,
    retryStrategy: reconnectWithBackoff,
  },
  queue: {
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    connectTimeout: 2000,
    retryStrategy: reconnectWithBackoff,
  },
  producer: {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
    connectTimeout: 1000,
    retryStrategy: reconnectWithBackoff,
  },
  tool: {
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    commandTimeout: 10_000,
    connectTimeout: 3000,
    retryStrategy: (attempt) => (attempt > 3 ? null : 200),
  },
};

export interface CreateRedisOptions {
  /** Shown by CLIENT LIST, so operators can tell the API, relay and CLI apart. */
  connectionName?: string;
  /** Every connection needs one: ioredis emits connection errors here instead of throwing. */
  onError: (error: Error) => void;
  /** Overrides for tests and special cases. */
  overrides?: RedisOptions;
}

/** A connection configured for its role, with the service's Lua scripts defined on it. */
export function createRedis(url: string, role: RedisRole, options: CreateRedisOptions): Redis {
  const redis = new Redis(url, {
    ...roleOptions[role],
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    ...options.overrides,
  });
  redis.on('error', options.onError);
  return defineScripts(redis);
}

/** The options of a role, for libraries that build their own connections (BullMQ). */
export function redisOptionsFor(role: RedisRole): RedisOptions {
  return { ...roleOptions[role] };
}
