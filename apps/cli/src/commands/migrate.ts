// `tally migrate`: create the database when it is missing, then apply pending migrations.
import { ensureDatabase, migrate, redact } from '@tally/db';
import { CliError, reasonOf } from '../errors.js';
import { databaseUnreachable, type CliContext } from '../context.js';

export interface MigrateResult {
  database: string;
  created: boolean;
  applied: string[];
}

export async function runMigrate(context: CliContext): Promise<MigrateResult> {
  const url = context.config.databaseUrl;
  let created: boolean;
  try {
    created = await ensureDatabase(url);
  } catch (error) {
    throw databaseUnreachable(url, error);
  }
  let applied: string[];
  try {
    applied = await migrate(url, {
      info() {},
      warn: (message) => process.stderr.write(`${message}\n`),
      error: (message) => process.stderr.write(`${message}\n`),
    });
  } catch (error) {
    throw new CliError(
      `Migrating ${redact(url)} failed: ${reasonOf(error)}. Nothing of the failed run was applied (one transaction); ` +
        'fix the cause and run `tally migrate` again.',
      undefined,
      { cause: error },
    );
  }
  const result = { database: redact(url), created, applied };
  context.output.result(result, [
    ...(created ? [`Created database ${result.database}`] : []),
    applied.length === 0
      ? `Database ${result.database} is up to date`
      : `Applied ${applied.length} migration(s) to ${result.database}: ${applied.join(', ')}`,
  ]);
  return result;
}
