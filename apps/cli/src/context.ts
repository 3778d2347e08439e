// What every command needs: the validated configuration, the output, and connections opened on
// first use (a command that needs no Redis never fails because Redis is down). Connection
// failures become CliErrors that name the service and its URL with the password masked.
import { ConfigError, loadConfig, redactRedisUrl, type Config } from '@tally/config';
import { createPool, PgErrorCode, pgErrorCode, redact, type Pool } from '@tally/db';
import { createRedis, redisKeys, type RedisClient, type RedisKeys } from '@tally/cache';
import { CliError, reasonOf } from './errors.js';
import { Output } from './output.js';

export class CliContext {
  readonly keys: RedisKeys;
  private pool: Pool | undefined;
  private redisConnection: RedisClient | undefined;

  constructor(
    readonly config: Config,
    readonly output: Output,
  ) {
    this.keys = redisKeys(config.redisPrefix);
  }

  static fromEnvironment(options: { json: boolean }): CliContext {
    try {
      return new CliContext(loadConfig(), new Output(options.json));
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(error.message, undefined, { cause: error });
      throw error;
    }
  }

  /** A small pool, checked with one query, so a wrong URL fails here with a clear message. */
  async database(): Promise<Pool> {
    if (this.pool) return this.pool;
    const url = this.config.databaseUrl;
    const pool = createPool(url, { max: 4, applicationName: 'tally-cli', connectionTimeoutMs: 5000 });
    // Idle clients report server restarts here; the failing query reports them to the command.
    pool.on('error', () => {});
    try {
      await pool.query('SELECT 1');
    } catch (error) {
      await pool.end().catch(() => {});
      throw databaseUnreachable(url, error);
    }
    this.pool = pool;
    return pool;
  }

  async redis(): Promise<RedisClient> {
    if (this.redisConnection) return this.redisConnection;
    const url = this.config.redisUrl;
    let lastError: Error | undefined;
    const redis = createRedis(url, 'tool', {
      connectionName: 'tally-cli',
      onError: (error) => {
        lastError = error;
      },
      overrides: { lazyConnect: true },
    });
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      throw new CliError(
        `Cannot connect to Redis at ${redactRedisUrl(url)}: ${reasonOf(lastError ?? error)}. ` +
          'Check that Redis is running and that REDIS_URL points to it.',
        undefined,
        { cause: lastError ?? error },
      );
    }
    this.redisConnection = redis;
    return redis;
  }

  /** Closes whatever was opened; every step runs even when another fails. */
  async close(): Promise<void> {
    const pool = this.pool;
    const redis = this.redisConnection;
    this.pool = undefined;
    this.redisConnection = undefined;
    await Promise.allSettled([
      pool?.end(),
      redis?.quit().catch(() => redis.disconnect()),
    ]);
  }
}

export function databaseUnreachable(url: string, error: unknown): CliError {
  const shown = redact(url);
  if (pgErrorCode(error) === PgErrorCode.invalidCatalogName) {
    return new CliError(
      `PostgreSQL at ${shown} has no such database (${reasonOf(error)}). Create and migrate it with \`tally migrate\`.`,
      undefined,
      { cause: error },
    );
  }
  return new CliError(
    `Cannot connect to PostgreSQL at ${shown}: ${reasonOf(error)}. ` +
      'Check that PostgreSQL is running and that DATABASE_URL points to it.',
    undefined,
    { cause: error },
  );
}
