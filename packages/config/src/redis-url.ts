// What REDIS_URL names: one Redis server (`redis://`, `rediss://`, passed to ioredis as is) or a
// Redis Cluster (`redis+cluster://` or `rediss+cluster://` followed by one or more seed nodes).
//
// A cluster is a scheme of its own rather than a separate flag so that one variable keeps saying
// everything, as it does for a single server: every process, the compose file and the systemd
// environment file pass REDIS_URL alone. Several seed nodes let a process start while one of them
// is down; ioredis learns the rest of the cluster from whichever seed answers.

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'single'; url: string }
  | {
      kind: 'cluster';
      /** Seed nodes, in the order given. */
      nodes: RedisNodeAddress[];
      username: string | undefined;
      password: string | undefined;
      /** rediss+cluster://: TLS to every node. */
      tls: boolean;
    };

export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
}

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?(#.*)?$/;
const EXAMPLE = 'e.g. redis+cluster://10.0.0.1:7000,10.0.0.2:7000';
const DEFAULT_PORT = 6379;

export const isClusterUrl = (url: string): boolean => /^rediss?\+cluster:\/\//.test(url);

/** Splits `host:port`, `host` or `[ipv6]:port`; throws a RedisUrlError naming the bad part. */
function parseNode(text: string): RedisNodeAddress {
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([A-Za-z0-9.-]+)(?::(\d+))?$/.exec(text);
  const match = bracketed ?? plain;
  if (!match) {
    throw new RedisUrlError(`REDIS_URL lists a cluster node "${text}" that is not host:port (${EXAMPLE})`);
  }
  const port = match[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RedisUrlError(`REDIS_URL lists a cluster node "${text}" whose port is not between 1 and 65535`);
  }
  return { host: match[1]!, port };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch (error) {
    throw new RedisUrlError('REDIS_URL has credentials that are not valid percent-encoding', { cause: error });
  }
}

/** REDIS_URL for messages and logs: the password replaced by `***`, one server or a cluster. */
export function redactRedisUrl(url: string): string {
  if (isClusterUrl(url)) return url.replace(/^([^:]+:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}

/** Reads REDIS_URL; throws a RedisUrlError that says what is wrong and how a valid value looks. */
export function parseRedisUrl(url: string): RedisTarget {
  if (!isClusterUrl(url)) return { kind: 'single', url };
  const match = CLUSTER_URL.exec(url);
  if (!match) throw new RedisUrlError(`REDIS_URL is not a valid cluster URL (${EXAMPLE})`);
  const [, scheme, credentials, hosts, path, query, fragment] = match;
  if (query || fragment) {
    throw new RedisUrlError('REDIS_URL: a cluster URL takes no query string or fragment; set options through the environment instead');
  }
  // Redis Cluster has database 0 only (SELECT is refused), so any other number would be a mistake.
  if (path !== undefined && path !== '/' && path !== '/0') {
    throw new RedisUrlError(`REDIS_URL names database ${JSON.stringify(path.slice(1))}, but Redis Cluster has only database 0: remove the path`);
  }
  const entries = hosts!.split(',');
  if (entries.some((entry) => entry === '')) {
    throw new RedisUrlError(`REDIS_URL must list at least one cluster node, separated by commas (${EXAMPLE})`);
  }
  let username: string | undefined;
  let password: string | undefined;
  if (credentials !== undefined && credentials !== '') {
    const colon = credentials.indexOf(':');
    username = decode(colon < 0 ? credentials : credentials.slice(0, colon)) || undefined;
    password = colon < 0 ? undefined : decode(credentials.slice(colon + 1)) || undefined;
  }
  return { kind: 'cluster', nodes: entries.map(parseNode), username, password, tls: scheme === 'rediss' };
}
