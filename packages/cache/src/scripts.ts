// Lua scripts live in ../lua as files; ioredis' defineCommand runs them by EVALSHA and falls back
// to EVAL when a restarted Redis has forgotten them.
import { readFileSync } from 'node:fs';
import type { Result } from 'ioredis';
import type { RedisClient } from './redis-client.js';

function lua(name: string): string {
  return readFileSync(new URL(`../lua/${name}.lua`, import.meta.url), 'utf8');
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** mirror-count.lua: 1 when written, 0 when Redis holds that version or newer. */
    tallyMirrorCount(authorKey: string, booksCount: string, version: string): Result<number, Context>;
    /** remove-count.lua: 1 when removed, 0 when absent or newer than `version`. */
    tallyRemoveCount(authorKey: string, version: string): Result<number, Context>;
  }
}

const definitions = {
  tallyMirrorCount: { numberOfKeys: 1, lua: lua('mirror-count') },
  tallyRemoveCount: { numberOfKeys: 1, lua: lua('remove-count') },
} as const;

/** Registers the service's scripts on a connection, one server or a cluster (idempotent). */
export function defineScripts<Client extends RedisClient>(redis: Client): Client {
  for (const [name, definition] of Object.entries(definitions)) {
    if (!(name in redis)) redis.defineCommand(name, definition);
  }
  return redis;
}
