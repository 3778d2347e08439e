import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

describe('configuration from the environment', () => {
  it('defaults to the documented local setup', () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/tally',
      redisUrl: 'redis://127.0.0.1:6379/0',
      host: '127.0.0.1',
      port: 3000,
      workerPort: 3001,
      redisPrefix: 'tally:',
      countStalenessMs: 2000,
      reconcileIntervalMs: 60000,
      countSources: ['redis', 'column', 'count'],
      apiToken: undefined,
      trustProxy: false,
      logLevel: 'info',
    });
  });

  it('reads and converts every variable', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://app@db:5432/books',
      REDIS_URL: 'rediss://cache:6380/2',
      HOST: '0.0.0.0',
      PORT: '8080',
      WORKER_PORT: '9090',
      REDIS_PREFIX: 'shop:',
      COUNT_STALENESS_MS: '500',
      RECONCILE_INTERVAL_MS: '30000',
      COUNT_SOURCES: 'column,count',
      API_TOKEN: 'a-long-enough-secret-token',
      TRUST_PROXY: 'true',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({ port: 8080, workerPort: 9090, countStalenessMs: 500, countSources: ['column', 'count'], trustProxy: true });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every bad variable in one clear error, without echoing the token', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', COUNT_STALENESS_MS: '-5', LOG_LEVEL: 'loud', API_TOKEN: 'short', DATABASE_URL: 'mysql://x' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const variable of ['PORT', 'COUNT_STALENESS_MS', 'LOG_LEVEL', 'API_TOKEN', 'DATABASE_URL']) {
      expect(message).toContain(variable);
    }
    expect(message).toContain('"eighty"');
    expect(message).not.toContain('short');
  });

  it('never echoes a password from a bad URL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgresql+asyncpg://app:S3cret@db/tally' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ DATABASE_URL: 'postgresql+asyncpg://app:S3cret@db/tally' })).not.toThrow(/S3cret/);
    expect(() => loadConfig({ DATABASE_URL: 'postgresql+asyncpg://app:S3cret@db/tally' })).toThrow(/app:\*\*\*@db/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', API_TOKEN: '' })).toMatchObject({ port: 3000, apiToken: undefined });
  });

  it('refuses an unknown count source', () => {
    expect(() => loadConfig({ COUNT_SOURCES: 'redis,guess' })).toThrow(/COUNT_SOURCES/);
  });
});
