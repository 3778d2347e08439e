// Removing a whole deployment's keys: every key the service writes starts with REDIS_PREFIX
// (the author hashes, the relay's {relay} keys, BullMQ's {bull} keys).
import { pipelineByNode } from './node-pipelines.js';
import { isCluster, type RedisClient } from './redis-client.js';
import { escapeGlob } from './keys.js';
import { scanKeys } from './scan-keys.js';

/**
 * Deletes every key under `prefix` with SCAN and UNLINK (never KEYS or FLUSHALL), on every master
 * of a cluster; returns how many.
 */
export async function deleteKeysUnder(redis: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const found of scanKeys(redis, `${escapeGlob(prefix)}*`)) {
    if (!isCluster(redis)) {
      deleted += await redis.unlink(...found);
      continue;
    }
    // A multi-key UNLINK must stay within one slot on a cluster: one UNLINK per key instead.
    const replies = await pipelineByNode(redis, found, (pipeline, key) => pipeline.unlink(key));
    for (const [error, removed] of replies) {
      if (error) throw new Error(`Redis refused to UNLINK a key under ${prefix}: ${error.message}`, { cause: error });
      deleted += Number(removed);
    }
  }
  return deleted;
}
