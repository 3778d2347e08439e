// The service talks to one Redis server or to a Redis Cluster through the same code. Most
// commands route themselves (ioredis sends a keyed command to the node that owns the key's
// slot); the few that are about servers rather than keys (SCAN, INFO) go through here.
import type { Cluster, Redis } from 'ioredis';

/** A connection made by createRedis: one server, or a whole Redis Cluster. */
export type RedisClient = Redis | Cluster;

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Partial<Cluster>).isCluster === true;
}

/**
 * The connections that hold data: the client itself on one server, every master of a cluster.
 * A cluster learns its masters when it connects, so this waits for that (one PING) first.
 */
export async function masterNodes(client: RedisClient): Promise<Redis[]> {
  if (!isCluster(client)) return [client];
  if (client.status !== 'ready') await client.ping();
  const masters = client.nodes('master');
  if (masters.length === 0) {
    throw new Error(
      `the Redis Cluster client knows no master node (status ${client.status}): check that the cluster ` +
        'answers CLUSTER SLOTS and that its nodes are reachable from here',
    );
  }
  return masters;
}
