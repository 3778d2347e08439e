// One database per test file, cloned from the migrated template (about 0.2 s), dropped at the
// end. Notifications are per database, so files cannot hear each other's NOTIFY.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import pg from 'pg';
import { createPool, type Pool } from '../../packages/db/src/pool.js';
import { ADMIN_DATABASE_URL, databaseUrl } from './environment.js';
import { templateName } from './template.js';

export const HARNESS_APPLICATION = 'tally-test-harness';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** The harness's own pool (2 connections), for arranging and asserting. */
  readonly pool: Pool;
}

async function withAdmin<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL, application_name: HARNESS_APPLICATION });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/** Creates a fresh database from the template; the caller drops it with dropTestDatabase. */
export async function createTestDatabase(): Promise<{ name: string; url: string }> {
  const name = `tally_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${templateName()}`));
  return { name, url: databaseUrl(name) };
}

export async function dropTestDatabase(name: string): Promise<void> {
  await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** Connections to `name` that the harness did not open, with their application names. */
export async function foreignConnections(name: string): Promise<string[]> {
  return withAdmin(async (admin) => {
    const { rows } = await admin.query<{ application_name: string }>(
      `SELECT application_name FROM pg_stat_activity
        WHERE datname = $1 AND application_name <> $2 AND pid <> pg_backend_pid()`,
      [name, HARNESS_APPLICATION],
    );
    return rows.map((row) => row.application_name || '(unnamed)');
  });
}

/**
 * Gives the calling test file its own database for all its tests. After each test it fails the
 * test when a connection the test opened is still there (a leaked pool, listener or worker).
 */
export function useTestDatabase(options: { checkLeaks?: boolean } = {}): TestDatabase {
  let state: TestDatabase | undefined;
  beforeAll(async () => {
    const { name, url } = await createTestDatabase();
    state = { name, url, pool: createPool(url, { max: 4, applicationName: HARNESS_APPLICATION }) };
  });
  afterAll(async () => {
    if (!state) return;
    // pool.end() resolves before its clients finished closing; DROP ... WITH (FORCE) may then
    // terminate one, which the pool re-emits as an 'error' that would fail the whole file.
    state.pool.on('error', () => {});
    await state.pool.end();
    await dropTestDatabase(state.name);
  });
  if (options.checkLeaks ?? true) {
    afterEach(async () => {
      if (!state) return;
      let leaked: string[] = [];
      // Closed connections leave pg_stat_activity a moment after the client sees them close.
      for (let attempt = 0; attempt < 20; attempt += 1) {
        leaked = await foreignConnections(state.name);
        if (leaked.length === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the test left ${leaked.length} connection(s) open: ${leaked.join(', ')}`);
    });
  }
  const get = (): TestDatabase => {
    if (!state) throw new Error('the test database exists only inside tests and hooks');
    return state;
  };
  return {
    get name() {
      return get().name;
    },
    get url() {
      return get().url;
    },
    get pool() {
      return get().pool;
    },
  };
}
