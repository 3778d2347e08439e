// Every Redis key the service reads or writes is built here. The author hashes are a public
// interface (operators read them by hand); see the README's Redis section.

export interface RedisKeys {
  readonly prefix: string;
  /** Hash with fields books_count and version (decimal strings), e.g. `tally:author:42`. */
  author(authorId: number): string;
  /** Pattern matching every author hash, for SCAN. */
  readonly authorPattern: string;
  /** The author id inside an author key, or undefined for any other key. */
  authorIdOf(key: string): number | undefined;
  /**
   * Exists while the relay is caught up: written with a TTL of the staleness budget left, so its
   * expiry is the moment Redis counts may be older than COUNT_STALENESS_MS. Value: JSON details.
   */
  readonly relayHeartbeat: string;
  /** Random token the relay writes after a full re-mirror; gone means Redis lost data. */
  readonly relayEpoch: string;
  // The two relay keys share the hash tag {relay}: one Lua script reads both, which Redis Cluster
  // allows only within one slot.
  /** One key per live worker process, with a TTL: who is running, for `tally outbox status`. */
  worker(workerId: string): string;
  readonly workerPattern: string;
  /** Prefix for BullMQ's keys; the {bull} hash tag keeps every queue key in one Redis Cluster slot. */
  readonly bullPrefix: string;
}

export function redisKeys(prefix: string): RedisKeys {
  const authorPrefix = `${prefix}author:`;
  return Object.freeze({
    prefix,
    author: (authorId: number) => `${authorPrefix}${authorId}`,
    authorPattern: `${escapeGlob(authorPrefix)}*`,
    authorIdOf(key: string) {
      if (!key.startsWith(authorPrefix)) return undefined;
      const rest = key.slice(authorPrefix.length);
      return /^[1-9][0-9]{0,15}$/.test(rest) ? Number(rest) : undefined;
    },
    relayHeartbeat: `${prefix}{relay}:heartbeat`,
    relayEpoch: `${prefix}{relay}:epoch`,
    worker: (workerId: string) => `${prefix}worker:${workerId}`,
    workerPattern: `${escapeGlob(prefix)}worker:*`,
    bullPrefix: `${prefix}{bull}`,
  });
}

/** `text` with Redis glob characters escaped, for a SCAN MATCH pattern that starts with it. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
