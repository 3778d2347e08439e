// Reading and writing the mirrored counts. Every write is version-guarded in Lua, so writers may
// race, replay and reorder without ever moving a count backwards.
import type { RedisKeys } from './keys.js';
import { pipelineByNode } from './node-pipelines.js';
import type { RedisClient } from './redis-client.js';

export interface MirroredCount {
  booksCount: number;
  version: number;
}

/** A state to mirror. booksCount null removes the key (author deleted, or count not computed). */
export interface CountChange {
  authorId: number;
  booksCount: number | null;
  /** The state's version; for a removal, the newest version the removal may delete. */
  version: number;
}

export interface MirrorResult {
  written: number;
  removed: number;
  /** Changes Redis already had at an equal or newer version: replays, harmless. */
  unchanged: number;
}

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** A count or version field as the scripts write it (a decimal string), or undefined if it is not one. */
export function parseMirroredNumber(text: string | null | undefined): number | undefined {
  return typeof text === 'string' && DECIMAL.test(text) ? Number(text) : undefined;
}

/**
 * The author's mirrored count, or undefined when Redis has no well-formed entry for it (missing,
 * malformed, or a key of another type, which the next mirror write replaces).
 */
export async function readMirroredCount(redis: RedisClient, keys: RedisKeys, authorId: number): Promise<MirroredCount | undefined> {
  let fields: Array<string | null>;
  try {
    fields = await redis.hmget(keys.author(authorId), 'books_count', 'version');
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('WRONGTYPE')) return undefined;
    throw error;
  }
  const booksCount = parseMirroredNumber(fields[0]);
  const version = parseMirroredNumber(fields[1]);
  return booksCount === undefined || version === undefined ? undefined : { booksCount, version };
}

/**
 * Applies changes in one pipelined round trip (one per node on a cluster). Throws when any command
 * failed, so a caller that deletes outbox rows only after this resolves never acknowledges an
 * unapplied change.
 */
export async function mirrorCounts(redis: RedisClient, keys: RedisKeys, changes: readonly CountChange[]): Promise<MirrorResult> {
  const result: MirrorResult = { written: 0, removed: 0, unchanged: 0 };
  if (changes.length === 0) return result;
  const replies = await pipelineByNode(
    redis,
    changes.map((change) => keys.author(change.authorId)),
    (pipeline, key, index) => {
      const change = changes[index]!;
      if (change.booksCount === null) pipeline.tallyRemoveCount(key, String(change.version));
      else pipeline.tallyMirrorCount(key, String(change.booksCount), String(change.version));
    },
  );
  replies.forEach(([error, reply], index) => {
    if (error) throw new Error(`Redis refused the count of author ${changes[index]!.authorId}: ${error.message}`, { cause: error });
    if (reply !== 1) result.unchanged += 1;
    else if (changes[index]!.booksCount === null) result.removed += 1;
    else result.written += 1;
  });
  return result;
}
