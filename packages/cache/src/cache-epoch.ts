// Whether the counts in Redis can be trusted, and the heartbeat that depends on it.
//
// The epoch key records the last full re-mirror from the column and the Redis server process it
// ran on: `final:<run_id>:<token>`. While a rebuild runs it holds `pending:<token>` with a TTL (a
// rebuilder that dies lets it expire). Redis lost data when the key is missing (FLUSHALL, restart
// without persistence) or names another run_id (a restart, possibly from an older AOF). The
// heartbeat is published through a script that checks exactly that, atomically, so it can never
// vouch for counts Redis may have lost.
//
// On a Redis Cluster the relay's keys live on one node (hash tag {relay}), while the author hashes
// are spread over every master. There the epoch also lists the run_id of every master at the
// start of the rebuild (`final:<run_id>:<token>;masters=<run_id>,...`): a master that restarted
// or was replaced (failover, a new master) may have lost or rolled back the counts it held. The
// script checks the epoch's own node atomically, as on one server; the other masters are compared
// by the worker just before each publish, so a lost master withdraws the heartbeat at the next
// publish (one poll interval) and triggers a rebuild.
import { readFileSync } from 'node:fs';
import type { Redis, Result } from 'ioredis';
import type { HeartbeatDetails } from './heartbeat.js';
import type { RedisKeys } from './keys.js';
import { isCluster, masterNodes, type RedisClient } from './redis-client.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** publish-heartbeat.lua: 1 published, 0 withdrawn (epoch does not vouch), 2 withdrawn (expiry passed). */
    tallyPublishHeartbeat(heartbeatKey: string, epochKey: string, details: string, expiresAtMs: string): Result<number, Context>;
    /** swap-epoch.lua: 1 when the epoch held `expected` and now holds `next` ('' deletes it), else 0. */
    tallySwapEpoch(epochKey: string, expected: string, next: string, ttlMs: string): Result<number, Context>;
    /** server-identity.lua: [run_id, seconds, microseconds] of the server holding `anyKey`. */
    tallyServerIdentity(anyKey: string): Result<[string, string, string], Context>;
  }
}

const lua = (name: string) => readFileSync(new URL(`../lua/${name}.lua`, import.meta.url), 'utf8');
const definitions = {
  tallyPublishHeartbeat: { numberOfKeys: 2, lua: lua('publish-heartbeat') },
  tallySwapEpoch: { numberOfKeys: 1, lua: lua('swap-epoch') },
  tallyServerIdentity: { numberOfKeys: 1, lua: lua('server-identity') },
} as const;

function withEpochScripts<Client extends RedisClient>(redis: Client): Client {
  for (const [name, definition] of Object.entries(definitions)) {
    if (!(name in redis)) redis.defineCommand(name, definition);
  }
  return redis;
}

export type CacheEpoch =
  | { kind: 'missing' }
  | { kind: 'pending'; token: string }
  | {
      kind: 'final';
      runId: string;
      token: string;
      /** Redis Cluster: every master's run_id when the rebuild began, sorted. */
      masterRunIds?: string[];
    }
  /** Something no tally process writes; treated like missing. */
  | { kind: 'unreadable'; value: string };

export function parseEpoch(value: string | null): CacheEpoch {
  if (value === null) return { kind: 'missing' };
  const pending = /^pending:([0-9a-f-]+)$/.exec(value);
  if (pending) return { kind: 'pending', token: pending[1]! };
  const final = /^final:([0-9a-f]+):([0-9a-f-]+)(?:;masters=([0-9a-f]+(?:,[0-9a-f]+)*))?$/.exec(value);
  if (final) {
    const masterRunIds = final[3]?.split(',');
    return { kind: 'final', runId: final[1]!, token: final[2]!, ...(masterRunIds ? { masterRunIds } : {}) };
  }
  return { kind: 'unreadable', value };
}

const NO_RUN_ID = 'Redis INFO server has no run_id: is this a Redis-compatible server that hides it?';

/**
 * The Redis server process's run_id: it changes on every restart. On a cluster, `keys` is
 * required: the answer is the run_id of the node holding the relay's keys.
 */
export async function readServerRunId(redis: RedisClient, keys?: RedisKeys): Promise<string> {
  if (isCluster(redis)) {
    const [runId] = await withEpochScripts(redis).tallyServerIdentity(relayKeyOf(keys, 'readServerRunId'));
    if (!runId) throw new Error(NO_RUN_ID);
    return runId;
  }
  const info = await redis.info('server');
  const runId = /^run_id:([0-9a-f]+)/m.exec(info)?.[1];
  if (!runId) throw new Error(NO_RUN_ID);
  return runId;
}

function relayKeyOf(keys: RedisKeys | undefined, caller: string): string {
  if (!keys) throw new Error(`${caller} needs the relay keys on a Redis Cluster, to ask the node that holds them`);
  return keys.relayEpoch;
}

/** Every master's run_id, sorted; undefined on a single server (its run_id is the epoch's own). */
export async function readMasterRunIds(redis: RedisClient): Promise<string[] | undefined> {
  if (!isCluster(redis)) return undefined;
  const masters = await masterNodes(redis);
  return (await Promise.all(masters.map((node: Redis) => readServerRunId(node)))).sort();
}

/** What an epoch vouches for: the server (or the relay keys' node) and, on a cluster, every master. */
export interface ServerIdentity {
  runId: string;
  masterRunIds?: string[];
}

export async function readServerIdentity(redis: RedisClient, keys: RedisKeys): Promise<ServerIdentity> {
  const [runId, masterRunIds] = await Promise.all([readServerRunId(redis, keys), readMasterRunIds(redis)]);
  return { runId, ...(masterRunIds ? { masterRunIds } : {}) };
}

export interface EpochCheck {
  epoch: CacheEpoch;
  serverRunId: string;
  /** Redis Cluster: every master's run_id now, sorted. */
  masterRunIds?: string[];
  /** The epoch vouches for this server (every master): counts were fully mirrored since it started. */
  trusted: boolean;
}

export async function checkEpoch(redis: RedisClient, keys: RedisKeys): Promise<EpochCheck> {
  const [value, serverRunId, masterRunIds] = await Promise.all([
    redis.get(keys.relayEpoch),
    readServerRunId(redis, keys),
    readMasterRunIds(redis),
  ]);
  const epoch = parseEpoch(value);
  const mastersAgree =
    masterRunIds === undefined || (epoch.kind === 'final' && epoch.masterRunIds?.join(',') === masterRunIds.join(','));
  return {
    epoch,
    serverRunId,
    ...(masterRunIds ? { masterRunIds } : {}),
    trusted: epoch.kind === 'final' && epoch.runId === serverRunId && mastersAgree,
  };
}

/** Marks a rebuild as running (withdrawing trust) for `ttlMs`, unless extended or finished. */
export async function beginEpochRebuild(redis: RedisClient, keys: RedisKeys, token: string, ttlMs: number): Promise<void> {
  await redis.set(keys.relayEpoch, `pending:${token}`, 'PX', ttlMs);
}

/** Keeps this rebuild's marker alive; false when it was lost (FLUSHALL) or taken by another rebuild. */
export async function extendEpochRebuild(redis: RedisClient, keys: RedisKeys, token: string, ttlMs: number): Promise<boolean> {
  const marker = `pending:${token}`;
  return (await withEpochScripts(redis).tallySwapEpoch(keys.relayEpoch, marker, marker, String(ttlMs))) === 1;
}

/** Drops this rebuild's marker (if still ours) so the next check starts over at once. */
export async function abandonEpochRebuild(redis: RedisClient, keys: RedisKeys, token: string): Promise<void> {
  await withEpochScripts(redis).tallySwapEpoch(keys.relayEpoch, `pending:${token}`, '', '0');
}

/**
 * Declares Redis complete as of the server identity read before the rebuild began (a restart
 * during the rebuild then shows as a mismatch): a run_id, or readServerIdentity's answer on a
 * cluster. False when the marker was lost or taken meanwhile.
 */
export async function commitEpoch(redis: RedisClient, keys: RedisKeys, token: string, server: string | ServerIdentity): Promise<boolean> {
  const { runId, masterRunIds } = typeof server === 'string' ? { runId: server, masterRunIds: undefined } : server;
  const masters = masterRunIds ? `;masters=${[...masterRunIds].sort().join(',')}` : '';
  return (await withEpochScripts(redis).tallySwapEpoch(keys.relayEpoch, `pending:${token}`, `final:${runId}:${token}${masters}`, '0')) === 1;
}

export type HeartbeatOutcome =
  | 'published'
  /** The expiry had passed: the relay is further behind than the staleness budget. */
  | 'withdrawn-lagging'
  /** The epoch does not vouch for this server: Redis needs a rebuild, or one is running. */
  | 'withdrawn-untrusted';

/**
 * This Redis server's clock, in milliseconds since the Unix epoch. On a cluster, `keys` is
 * required: the clock is that of the node holding the relay's keys, which publish-heartbeat.lua
 * reads too (nodes on different hosts have different clocks).
 */
export async function readServerTimeMs(redis: RedisClient, keys?: RedisKeys): Promise<number> {
  const [seconds, micros]: Array<string | number> = isCluster(redis)
    ? (await withEpochScripts(redis).tallyServerIdentity(relayKeyOf(keys, 'readServerTimeMs'))).slice(1)
    : await redis.time();
  if (seconds === undefined || micros === undefined) throw new Error('Redis TIME answered without seconds and microseconds');
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * Publishes the heartbeat until `expiresAtMs` (this Redis server's clock, see readServerTimeMs),
 * but only while the epoch vouches for the server (see publish-heartbeat.lua); otherwise, or when
 * that instant has passed, withdraws it.
 */
export async function publishTrustedHeartbeat(
  redis: RedisClient,
  keys: RedisKeys,
  expiresAtMs: number,
  details: HeartbeatDetails,
): Promise<HeartbeatOutcome> {
  // The script sees one node; the masters it cannot see are compared here (see the top of the file).
  if (isCluster(redis) && !(await checkEpoch(redis, keys)).trusted) {
    await redis.del(keys.relayHeartbeat);
    return 'withdrawn-untrusted';
  }
  const outcome = await withEpochScripts(redis).tallyPublishHeartbeat(
    keys.relayHeartbeat,
    keys.relayEpoch,
    JSON.stringify(details),
    String(Math.floor(expiresAtMs)),
  );
  if (outcome === 1) return 'published';
  return outcome === 2 ? 'withdrawn-lagging' : 'withdrawn-untrusted';
}
