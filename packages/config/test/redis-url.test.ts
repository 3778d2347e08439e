import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseRedisUrl, redactRedisUrl } from '../src/index.js';

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('REDIS_URL naming one server or a Redis Cluster', () => {
  it('passes a single-server URL through unchanged', () => {
    expect(parseRedisUrl('rediss://:secret@cache:6380/2')).toEqual({ kind: 'single', url: 'rediss://:secret@cache:6380/2' });
  });

  it('reads the seed nodes, credentials and TLS of a cluster URL', () => {
    expect(parseRedisUrl('rediss+cluster://app:p%40ss@10.0.0.1:7000,cache-2.internal:7001,[::1]:7002/0')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'cache-2.internal', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
    expect(parseRedisUrl('redis+cluster://:secret@node')).toMatchObject({
      nodes: [{ host: 'node', port: 6379 }],
      username: undefined,
      password: 'secret',
      tls: false,
    });
  });

  it('accepts a cluster URL in the configuration', () => {
    expect(loadConfig({ REDIS_URL: 'redis+cluster://a:7000,b:7001' }).redisUrl).toBe('redis+cluster://a:7000,b:7001');
  });

  it.each([
    ['redis+cluster://', /at least one cluster node/],
    ['redis+cluster://a:7000,,b:7001', /at least one cluster node/],
    ['redis+cluster://a:seven', /"a:seven" that is not host:port/],
    ['redis+cluster://a:70000', /port is not between 1 and 65535/],
    ['redis+cluster://a:7000/3', /only database 0/],
    ['redis+cluster://a:7000?tls=true', /no query string/],
  ])('refuses %s with a message naming REDIS_URL and the fix', (url, reason) => {
    const message = configError({ REDIS_URL: url });
    expect(message).toContain('REDIS_URL');
    expect(message).toMatch(reason);
  });

  it('never echoes a cluster password in its error', () => {
    expect(configError({ REDIS_URL: 'redis+cluster://:hunter2@a:7000/5' })).not.toContain('hunter2');
  });

  it('masks the password when a URL is shown, for one server and for a cluster', () => {
    expect(redactRedisUrl('redis+cluster://app:s3cret@a:7000,b:7001')).toBe('redis+cluster://app:***@a:7000,b:7001');
    expect(redactRedisUrl('rediss+cluster://:s3cret@a:7000')).toBe('rediss+cluster://:***@a:7000');
    expect(redactRedisUrl('redis+cluster://a:7000,b:7001')).toBe('redis+cluster://a:7000,b:7001');
    expect(redactRedisUrl('redis://:s3cret@cache:6379/0')).toBe('redis://:***@cache:6379/0');
  });

  it('still refuses other schemes', () => {
    expect(configError({ REDIS_URL: 'memcached://a:11211' })).toContain('REDIS_URL');
  });
});
