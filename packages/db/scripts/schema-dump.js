// Writes packages/db/schema.sql, the reviewed snapshot of the migrated schema that the test suite
// compares against: a schema change shows up in code review as a diff of this file.
// Usage (after `npx tsc -b`): npm run schema:dump -w @tally/db   [ADMIN_DATABASE_URL]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Strips what varies between pg_dump runs and minor versions: version comments, SET lines,
 * the \restrict guard lines of newer pg_dump, runs of blank lines.
 * @param {string} dump
 * @returns {string}
 */
export function normalizeSchemaDump(dump) {
  return (
    dump
      .split('\n')
      .filter((line) => !line.startsWith('-- Dumped') && !line.startsWith('SET ') && !line.startsWith('SELECT pg_catalog.set_config'))
      .filter((line) => !line.startsWith('\\restrict') && !line.startsWith('\\unrestrict'))
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim() + '\n'
  );
}

async function main() {
  const { ensureDatabase, migrate } = await import('../dist/migrate.js');
  const pg = (await import('pg')).default;
  const admin = new URL(process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const scratch = new URL(admin);
  scratch.pathname = `/tally_schema_dump_${process.pid}`;
  await ensureDatabase(scratch.toString());
  try {
    await migrate(scratch.toString());
    const dump = execFileSync('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', scratch.toString()], { encoding: 'utf8' });
    writeFileSync(new URL('../schema.sql', import.meta.url), normalizeSchemaDump(dump));
    console.log('wrote packages/db/schema.sql');
  } finally {
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${scratch.pathname.slice(1)} WITH (FORCE)`);
    await client.end();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
