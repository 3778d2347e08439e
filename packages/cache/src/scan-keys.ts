// SCAN over a whole deployment. A SCAN sent to a Redis Cluster client reaches one node only, so
// every caller that lists keys (orphan removal, prefix cleanup, the CLI's worker list) goes
// through this helper, which scans each master in turn.
import { masterNodes, type RedisClient } from './redis-client.js';

export interface ScanOptions {
  /** The COUNT hint per SCAN call: roughly how many keys each page examines. */
  count?: number;
}

/**
 * Yields the keys matching `pattern` page by page (never KEYS). As with SCAN itself, a key that
 * exists for the whole scan is yielded at least once; one added or removed meanwhile may or may not be.
 */
export async function* scanKeys(client: RedisClient, pattern: string, options: ScanOptions = {}): AsyncGenerator<string[]> {
  const count = options.count ?? 1000;
  for (const node of await masterNodes(client)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (found.length > 0) yield found;
    } while (cursor !== '0');
  }
}
