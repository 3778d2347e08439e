// The relay's promise that Redis counts are fresh. The key exists only while the relay is caught
// up, and expires at the moment its counts could be older than the staleness budget; readers
// compare nothing across clocks, they only ask whether the key is still alive.
import type { RedisKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';

export interface HeartbeatDetails {
  /** Which worker wrote it, host:pid. */
  worker: string;
  /** Age of the oldest change not yet mirrored when it was written, by the database clock. */
  lagMs: number;
  /** Outbox rows waiting when it was written. */
  backlog: number;
  /** Wall-clock time of writing (informational only; freshness comes from the TTL). */
  at: string;
}

/**
 * Declares Redis fresh for `ttlMs` more milliseconds. A relay that is `lagMs` behind passes
 * stalenessMs - lagMs; a non-positive TTL withdraws the promise instead.
 */
export async function publishHeartbeat(redis: RedisClient, keys: RedisKeys, ttlMs: number, details: HeartbeatDetails): Promise<void> {
  if (ttlMs <= 0) {
    await redis.del(keys.relayHeartbeat);
    return;
  }
  await redis.set(keys.relayHeartbeat, JSON.stringify(details), 'PX', Math.ceil(ttlMs));
}

/** Withdraws freshness at once, e.g. while Redis is being rebuilt after it lost data. */
export async function withdrawHeartbeat(redis: RedisClient, keys: RedisKeys): Promise<void> {
  await redis.del(keys.relayHeartbeat);
}

/** Milliseconds the heartbeat has left; 0 when it is missing (relay down, behind or rebuilding). */
export async function heartbeatTtlMs(redis: RedisClient, keys: RedisKeys): Promise<number> {
  const ttl = await redis.pttl(keys.relayHeartbeat);
  return ttl > 0 ? ttl : 0;
}

/** The heartbeat's details and remaining time, for operators; undefined when missing. */
export async function readHeartbeat(
  redis: RedisClient,
  keys: RedisKeys,
): Promise<(HeartbeatDetails & { ttlMs: number }) | undefined> {
  const [[, value], [, ttl]] = (await redis.multi().get(keys.relayHeartbeat).pttl(keys.relayHeartbeat).exec()) as [
    [Error | null, string | null],
    [Error | null, number],
  ];
  if (value == null || ttl <= 0) return undefined;
  try {
    return { ...(JSON.parse(value) as HeartbeatDetails), ttlMs: ttl };
  } catch {
    return undefined;
  }
}
