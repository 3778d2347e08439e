// Whether the counts in Redis can be trusted, and the heartbeat that depends on it.
//
// The epoch key records the last full re-mirror from the column and the Redis server process it
// ran on: `final:<run_id>:<token>`. While a rebuild runs it holds `pending:<token>` with a TTL (a
// rebuilder that dies lets it expire). Redis lost data when the key is missing (FLUSHALL, restart
// without persistence) or names another run_id (a restart, possibly from an older AOF). The
// heartbeat is published through a script that checks exactly that, atomically, so it can never
// vouch for counts Redis may have lost.
import { readFileSync } from 'node:fs';
import type { Redis, Result } from 'ioredis';
import type { HeartbeatDetails } from './heartbeat.js';
import type { RedisKeys } from './keys.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** publish-heartbeat.lua: 1 published, 0 withdrawn (epoch does not vouch), 2 withdrawn (expiry passed). */
    tallyPublishHeartbeat(heartbeatKey: string, epochKey: string, details: string, expiresAtMs: string): Result<number, Context>;
    /** swap-epoch.lua: 1 when the epoch held `expected` and now holds `next` ('' deletes it), else 0. */
    tallySwapEpoch(epochKey: string, expected: string, next: string, ttlMs: string): Result<number, Context>;
  }
}

const lua = (name: string) => readFileSync(new URL(`../lua/${name}.lua`, import.meta.url), 'utf8');
const definitions = {
  tallyPublishHeartbeat: { numberOfKeys: 2, lua: lua('publish-heartbeat') },
  tallySwapEpoch: { numberOfKeys: 1, lua: lua('swap-epoch') },
} as const;

function withEpochScripts(redis: Redis): Redis {
  for (const [name, definition] of Object.entries(definitions)) {
    if (!(name in redis)) redis.defineCommand(name, definition);
  }
  return redis;
}

export type CacheEpoch =
  | { kind: 'missing' }
  | { kind: 'pending'; token: string }
  | { kind: 'final'; runId: string; token: string }
  /** Something no tally process writes; treated like missing. */
  | { kind: 'unreadable'; value: string };

export function parseEpoch(value: string | null): CacheEpoch {
  if (value === null) return { kind: 'missing' };
  const pending = /^pending:([0-9a-f-]+)$/.exec(value);
  if (pending) return { kind: 'pending', token: pending[1]! };
  const final = /^final:([0-9a-f]+):([0-9a-f-]+)$/.exec(value);
  if (final) return { kind: 'final', runId: final[1]!, token: final[2]! };
  return { kind: 'unreadable', value };
}

/** The Redis server process's run_id: it changes on every restart. */
export async function readServerRunId(redis: Redis): Promise<string> {
  const info = await redis.info('server');
  const runId = /^run_id:([0-9a-f]+)/m.exec(info)?.[1];
  if (!runId) throw new Error('Redis INFO server has no run_id: is this a Redis-compatible server that hides it?');
  return runId;
}

export interface EpochCheck {
  epoch: CacheEpoch;
  serverRunId: string;
  /** The epoch vouches for this server: counts were fully mirrored since it started. */
  trusted: boolean;
}

export async function checkEpoch(redis: Redis, keys: RedisKeys): Promise<EpochCheck> {
  const [value, serverRunId] = await Promise.all([redis.get(keys.relayEpoch), readServerRunId(redis)]);
  const epoch = parseEpoch(value);
  return { epoch, serverRunId, trusted: epoch.kind === 'final' && epoch.runId === serverRunId };
}

/** Marks a rebuild as running (withdrawing trust) for `ttlMs`, unless extended or finished. */
export async function beginEpochRebuild(redis: Redis, keys: RedisKeys, token: string, ttlMs: number): Promise<void> {
  await redis.set(keys.relayEpoch, `pending:${token}`, 'PX', ttlMs);
}

/** Keeps this rebuild's marker alive; false when it was lost (FLUSHALL) or taken by another rebuild. */
export async function extendEpochRebuild(redis: Redis, keys: RedisKeys, token: string, ttlMs: number): Promise<boolean> {
  const marker = `pending:${token}`;
  return (await withEpochScripts(redis).tallySwapEpoch(keys.relayEpoch, marker, marker, String(ttlMs))) === 1;
}

/** Drops this rebuild's marker (if still ours) so the next check starts over at once. */
export async function abandonEpochRebuild(redis: Redis, keys: RedisKeys, token: string): Promise<void> {
  await withEpochScripts(redis).tallySwapEpoch(keys.relayEpoch, `pending:${token}`, '', '0');
}

/**
 * Declares Redis complete as of the server `runId` read before the rebuild began (a restart during
 * the rebuild then shows as a mismatch). False when the marker was lost or taken meanwhile.
 */
export async function commitEpoch(redis: Redis, keys: RedisKeys, token: string, runId: string): Promise<boolean> {
  return (await withEpochScripts(redis).tallySwapEpoch(keys.relayEpoch, `pending:${token}`, `final:${runId}:${token}`, '0')) === 1;
}

export type HeartbeatOutcome =
  | 'published'
  /** The expiry had passed: the relay is further behind than the staleness budget. */
  | 'withdrawn-lagging'
  /** The epoch does not vouch for this server: Redis needs a rebuild, or one is running. */
  | 'withdrawn-untrusted';

/** This Redis server's clock, in milliseconds since the Unix epoch. */
export async function readServerTimeMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * Publishes the heartbeat until `expiresAtMs` (this Redis server's clock, see readServerTimeMs),
 * but only while the epoch vouches for the server (see publish-heartbeat.lua); otherwise, or when
 * that instant has passed, withdraws it.
 */
export async function publishTrustedHeartbeat(
  redis: Redis,
  keys: RedisKeys,
  expiresAtMs: number,
  details: HeartbeatDetails,
): Promise<HeartbeatOutcome> {
  const outcome = await withEpochScripts(redis).tallyPublishHeartbeat(
    keys.relayHeartbeat,
    keys.relayEpoch,
    JSON.stringify(details),
    String(Math.floor(expiresAtMs)),
  );
  if (outcome === 1) return 'published';
  return outcome === 2 ? 'withdrawn-lagging' : 'withdrawn-untrusted';
}
