// Removing a whole deployment's keys: every key the service writes starts with REDIS_PREFIX
// (the author hashes, the relay's {relay} keys, BullMQ's {bull} keys).
import type { Redis } from 'ioredis';

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Deletes every key under `prefix` with SCAN and UNLINK (never KEYS or FLUSHALL); returns how many. */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) deleted += await redis.unlink(...found);
  } while (cursor !== '0');
  return deleted;
}
