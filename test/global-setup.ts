// Runs once before the suite: checks that PostgreSQL and Redis answer (and says how to start
// them when they do not), then prepares the migrated template that test databases clone.
import { Redis } from 'ioredis';
import pg from 'pg';
import { ADMIN_DATABASE_URL, START_POSTGRES, START_REDIS, TEST_REDIS_URL } from './support/environment.js';
import { ensureTemplate } from './support/template.js';

async function checkPostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL does not answer at ${ADMIN_DATABASE_URL} (${String(error)}).\nStart it with:\n  ${START_POSTGRES}`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkRedis(): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Redis does not answer at ${TEST_REDIS_URL} (${String(error)}).\nStart it with:\n  ${START_REDIS}`, {
      cause: error,
    });
  } finally {
    redis.disconnect();
  }
}

export default async function setup(): Promise<void> {
  await Promise.all([checkPostgres(), checkRedis()]);
  await ensureTemplate();
}
