// One round trip for many single-key commands, on one server or on a cluster. A pipeline on a
// Redis Cluster client must stay within the slots of one node, so there the commands are split
// by the node that serves each key and the per-node pipelines run side by side.
import calculateSlot from 'cluster-key-slot';
import type { ChainableCommander } from 'ioredis';
import { isCluster, type RedisClient } from './redis-client.js';

export type PipelineReply = [error: Error | null, result: unknown];

/**
 * Calls `add` once per key to queue that key's command(s), sends them, and returns the replies in
 * the order of `keys` (`add` must queue exactly one command per key). Throws when a pipeline was
 * discarded; per-command errors are in the replies.
 */
export async function pipelineByNode(
  client: RedisClient,
  keys: readonly string[],
  add: (pipeline: ChainableCommander, key: string, index: number) => void,
): Promise<PipelineReply[]> {
  if (keys.length === 0) return [];
  const groups = new Map<string, number[]>();
  if (!isCluster(client)) {
    groups.set('server', keys.map((_, index) => index));
  } else {
    keys.forEach((key, index) => {
      const slot = calculateSlot(key);
      // Slots not known yet (still connecting) each get a pipeline of their own: ioredis sends it
      // once the slot table has arrived.
      const owner = client.slots[slot]?.join(';') ?? `slot:${slot}`;
      const group = groups.get(owner);
      if (group) group.push(index);
      else groups.set(owner, [index]);
    });
  }
  const replies: PipelineReply[] = new Array<PipelineReply>(keys.length);
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      const pipeline = client.pipeline();
      for (const index of indexes) add(pipeline, keys[index]!, index);
      const results = await pipeline.exec();
      if (results === null) throw new Error('Redis pipeline was discarded (connection closed mid-batch)');
      indexes.forEach((index, position) => {
        replies[index] = results[position] ?? [new Error('Redis sent no reply for this command'), null];
      });
    }),
  );
  return replies;
}
