// The migrated template every test database is cloned from. Its name carries a hash of the
// migrations, so an edited migration gets a fresh template and concurrent runs share one.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { MIGRATIONS_DIR, migrate } from '../../packages/db/src/migrate.js';
import { ADMIN_DATABASE_URL, databaseUrl } from './environment.js';

const TEMPLATE_LOCK = 726_001;

export function templateName(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_DIR).sort()) {
    hash.update(file).update(readFileSync(join(MIGRATIONS_DIR, file)));
  }
  return `tally_template_${hash.digest('hex').slice(0, 12)}`;
}

/** Creates and migrates the template unless it exists; serialized across concurrent test runs. */
export async function ensureTemplate(): Promise<string> {
  const name = templateName();
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL, application_name: 'tally-test-harness' });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate', [name]);
    if (!rowCount) {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
      await migrate(databaseUrl(name));
      await admin.query(`ALTER DATABASE ${name} WITH is_template = true ALLOW_CONNECTIONS = false`);
    }
    await dropStaleDatabases(admin);
    return name;
  } finally {
    await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]).catch(() => {});
    await admin.end();
  }
}

/** Test databases carry their creation time; drop those a crashed run left behind hours ago. */
async function dropStaleDatabases(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname ~ '^tally_test_[0-9]+_'`,
  );
  const cutoff = Date.now() - 6 * 3600_000;
  for (const { datname } of rows) {
    const createdAt = Number(datname.split('_')[2]);
    if (createdAt < cutoff) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => {});
  }
}

/** Names of every migration, in order, as the ledger records them. */
export function migrationNames(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => file.replace(/\.sql$/, ''));
}
