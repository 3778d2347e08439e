// One place that decides how each part of the service talks to Redis. The defaults of ioredis
// wait (offline queue, 20 retries, no timeouts); each role below says what it needs instead.
// REDIS_URL names one server or a Redis Cluster (see parseRedisUrl in @tally/config); a cluster
// gets the same role options for each of its node connections, plus the few that ioredis reads
// only at the cluster's level (offline queue, reconnection, lazy connect, redirections).
import { parseRedisUrl, type RedisTarget } from '@tally/config';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisClient } from './redis-client.js';
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

/**
 * How a cluster client retries a command whose node went away or answered CLUSTERDOWN/TRYAGAIN.
 * ioredis retries up to maxRedirections times, retryDelayOnFailover apart (by default 16 x 100 ms);
 * the roles that must fail fast give up after a few short tries, as they do on one server.
 */
const failFastInCluster: Partial<ClusterOptions> = {
  maxRedirections: 4,
  retryDelayOnFailover: 20,
  retryDelayOnClusterDown: 20,
  retryDelayOnTryAgain: 20,
};
const clusterRoleOptions: Record<RedisRole, Partial<ClusterOptions>> = {
  api: failFastInCluster,
  relay: {},
  queue: {},
  producer: failFastInCluster,
  tool: {},
};

export interface CreateRedisOptions {
  /** Shown by CLIENT LIST, so operators can tell the API, relay and CLI apart. */
  connectionName?: string;
  /** Every connection needs one: ioredis emits connection errors here instead of throwing. */
  onError: (error: Error) => void;
  /** Overrides for tests and special cases. */
  overrides?: RedisOptions;
}

/**
 * A connection configured for its role, with the service's Lua scripts defined on it: a `Redis`
 * for a `redis://` URL, a `Cluster` for a `redis+cluster://` one.
 */
export function createRedis(url: string, role: RedisRole, options: CreateRedisOptions): RedisClient {
  const target = parseRedisUrl(url);
  const client = target.kind === 'cluster' ? createCluster(target, role, options) : createServer(target.url, role, options);
  client.on('error', options.onError);
  return defineScripts(client);
}

function createServer(url: string, role: RedisRole, options: CreateRedisOptions): Redis {
  return new Redis(url, {
    ...roleOptions[role],
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    ...options.overrides,
  });
}

function createCluster(target: Extract<RedisTarget, { kind: 'cluster' }>, role: RedisRole, options: CreateRedisOptions): Cluster {
  // Options that ioredis ignores (or forbids) per node are lifted to the cluster's level; the
  // address options are dropped, since the nodes come from the URL and then from the cluster.
  const {
    enableOfflineQueue,
    retryStrategy,
    lazyConnect,
    host: _host,
    port: _port,
    path: _path,
    sentinels: _sentinels,
    readOnly: _readOnly,
    ...nodeOptions
  } = { ...roleOptions[role], ...options.overrides };
  return new Cluster(target.nodes, {
    ...clusterRoleOptions[role],
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(retryStrategy === undefined ? {} : { clusterRetryStrategy: retryStrategy }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    redisOptions: {
      ...nodeOptions,
      ...(target.username === undefined ? {} : { username: target.username }),
      ...(target.password === undefined ? {} : { password: target.password }),
      ...(target.tls ? { tls: {} } : {}),
      ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    },
  });
}

/** The options of a role, for libraries that build their own connections (BullMQ). */
export function redisOptionsFor(role: RedisRole): RedisOptions {
  return { ...roleOptions[role] };
}
