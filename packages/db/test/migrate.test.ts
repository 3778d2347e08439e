import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, dropTestDatabase } from '../../../test/support/database.js';
import { databaseUrl } from '../../../test/support/environment.js';
import { migrationNames } from '../../../test/support/template.js';
import { ensureDatabase, migrate } from '../src/migrate.js';
// @ts-expect-error -- a plain JS script, typed by JSDoc
import { normalizeSchemaDump } from '../scripts/schema-dump.js';

const SNAPSHOT = fileURLToPath(new URL('../schema.sql', import.meta.url));
const created: string[] = [];
const MIGRATIONS = migrationNames();

afterAll(async () => {
  for (const name of created) await dropTestDatabase(name);
});

describe('migrations', () => {
  it('create the database when it is missing, apply once, and are idempotent', async () => {
    const name = `tally_test_${Date.now()}_fresh`;
    created.push(name);
    const url = databaseUrl(name);
    expect(await ensureDatabase(url)).toBe(true);
    expect(await ensureDatabase(url)).toBe(false);
    expect(await migrate(url)).toEqual(MIGRATIONS);
    expect(await migrate(url)).toEqual([]);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT name FROM tally.migrations ORDER BY id');
      expect(rows.map((row) => row.name)).toEqual(MIGRATIONS);
    } finally {
      await client.end();
    }
  });

  it('concurrent migrators wait for each other instead of failing (advisory lock)', async () => {
    const name = `tally_test_${Date.now()}_race`;
    created.push(name);
    const url = databaseUrl(name);
    await ensureDatabase(url);
    const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
    expect(results.flat()).toEqual(MIGRATIONS);
  });

  it('match the committed schema snapshot (packages/db/schema.sql; regenerate with npm run schema:dump -w @tally/db)', async () => {
    const { name, url } = await createTestDatabase();
    created.push(name);
    const dump = execFileSync('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', url], { encoding: 'utf8' });
    expect(normalizeSchemaDump(dump)).toBe(readFileSync(SNAPSHOT, 'utf8'));
  });
});
