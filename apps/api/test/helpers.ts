// Shared set-up of the API tests: an app per test against the file's own database and Redis
// prefix (closed after each test, before the harness checks for leaked connections), and quick
// ways to arrange rows.
import { afterEach } from 'vitest';
import { loadConfig, type Config } from '@tally/config';
import type { Pool } from '@tally/db';
import type { TestDatabase, TestRedis } from '@tally/test-support';
import { buildApp, type BuildAppOptions, type TallyApp } from '../src/app.js';

export function testConfig(db: TestDatabase, redis: TestRedis, env: Record<string, string> = {}): Config {
  return loadConfig({ DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, ...env });
}

/** Builds apps that are closed after the test that built them. */
export function useApps(db: TestDatabase, redis: TestRedis) {
  const open: TallyApp[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((app) => app.close()));
  });
  return async (env: Record<string, string> = {}, options: BuildAppOptions = {}): Promise<TallyApp> => {
    const app = await buildApp(testConfig(db, redis, env), { heartbeatIntervalMs: 50, ...options });
    open.push(app);
    return app;
  };
}

/** Creates an author with `books` books titled "<name> 1".."<name> n"; returns its id and book ids. */
export async function authorWithBooks(pool: Pool, name: string, books: number): Promise<{ id: number; bookIds: number[] }> {
  const { rows } = await pool.query<{ id: number }>('INSERT INTO author (name) VALUES ($1) RETURNING id', [name]);
  const id = rows[0]!.id;
  const inserted = await pool.query<{ id: number }>(
    `INSERT INTO book (author_id, title) SELECT $1, $2 || ' ' || g FROM generate_series(1, $3::int) g RETURNING id`,
    [id, name, books],
  );
  return { id, bookIds: inserted.rows.map((row) => row.id).sort((a, b) => a - b) };
}

export interface PageBody<T = { id: number }> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** The path and query of an absolute link, for inject(). */
export function pathOf(link: string): string {
  const url = new URL(link);
  return url.pathname + url.search;
}
