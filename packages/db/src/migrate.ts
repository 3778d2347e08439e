// Schema migrations: plain SQL files in packages/db/migrations, applied in order by node-pg-migrate
// under an advisory lock, in one transaction, recorded in tally.migrations.
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { PgErrorCode, pgErrorCode } from './errors.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

export interface MigrationLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const silent: MigrationLogger = { info() {}, warn() {}, error() {} };

function databaseName(connectionString: string): string {
  const name = decodeURIComponent(new URL(connectionString).pathname.replace(/^\//, ''));
  if (name === '') throw new Error(`DATABASE_URL ${redact(connectionString)} names no database`);
  return name;
}

/** The URL with its password masked, for messages. */
export function redact(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparseable URL>';
  }
}

/**
 * Creates the database named in the URL when it is missing, connecting to the server's `postgres`
 * database to do so. Returns whether it created it. Safe to race with another process.
 */
export async function ensureDatabase(connectionString: string): Promise<boolean> {
  const name = databaseName(connectionString);
  const adminUrl = new URL(connectionString);
  adminUrl.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: adminUrl.toString(), connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    const { rows } = await admin.query<{ quoted: string }>('SELECT quote_ident($1) AS quoted', [name]);
    await admin.query(`CREATE DATABASE ${rows[0]!.quoted}`);
    return true;
  } catch (error) {
    if (pgErrorCode(error) === PgErrorCode.duplicateDatabase) return false;
    throw error;
  } finally {
    await admin.end();
  }
}

/** Applies every pending migration; returns the names applied. Waits for a concurrent migrator. */
export async function migrate(connectionString: string, logger: MigrationLogger = silent): Promise<string[]> {
  const applied = await runner({
    databaseUrl: connectionString,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsSchema: 'tally',
    createMigrationsSchema: true,
    migrationsTable: 'migrations',
    singleTransaction: true,
    advisoryLockMode: 'wait',
    checkOrder: true,
    logger: { debug() {}, info: logger.info, warn: logger.warn, error: logger.error },
  });
  return applied.map((migration) => migration.name);
}
