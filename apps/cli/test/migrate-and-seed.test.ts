// `tally migrate` and `tally seed` on real PostgreSQL: a missing database is created and
// migrated; a seed loads exact counts with COPY, or leaves them NULL on request.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrl, dropTestDatabase, migrationNames, useTestDatabase, useTestRedis } from '../../../test/support/index.js';
import { parseJson, runCli } from './run-cli.js';

const db = useTestDatabase();
const redis = useTestRedis();
const env = () => ({ DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix });

interface AuthorCount {
  id: number;
  books_count: number | null;
  actual: number;
}

async function authorCounts(firstId: number, lastId: number): Promise<AuthorCount[]> {
  const { rows } = await db.pool.query<AuthorCount>(
    `SELECT a.id, a.books_count, (SELECT count(*) FROM book b WHERE b.author_id = a.id) AS actual
       FROM author a WHERE a.id BETWEEN $1 AND $2 ORDER BY a.id`,
    [firstId, lastId],
  );
  return rows;
}

interface SeedResult {
  authors: number;
  books: number;
  firstAuthorId: number;
  lastAuthorId: number;
  nullCounts: boolean;
}

describe('tally migrate', () => {
  const fresh = `tally_test_${Date.now()}_cli_${randomBytes(3).toString('hex')}`;
  afterAll(() => dropTestDatabase(fresh));

  it('creates a database that does not exist, migrates it, and is a no-op the second time', async () => {
    const url = databaseUrl(fresh);
    const first = await runCli(['migrate', '--json'], { DATABASE_URL: url });
    expect(first.code, first.stderr).toBe(0);
    expect(parseJson(first)).toEqual({ database: url, created: true, applied: migrationNames() });

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>('SELECT name FROM tally.migrations ORDER BY id');
      expect(rows.map((row) => row.name)).toEqual(migrationNames());
    } finally {
      await client.end();
    }

    const second = await runCli(['migrate', '--json'], { DATABASE_URL: url });
    expect(second.code, second.stderr).toBe(0);
    expect(parseJson(second)).toEqual({ database: url, created: false, applied: [] });
  });
});

describe('tally seed', () => {
  it('loads authors and books with COPY; every count is exact and books spread evenly', async () => {
    const run = await runCli(['seed', '--authors', '7', '--books', '10_000', '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    const seeded = parseJson<SeedResult>(run);
    expect(seeded).toMatchObject({ authors: 7, books: 10_000, nullCounts: false });
    const counts = await authorCounts(seeded.firstAuthorId, seeded.lastAuthorId);
    expect(counts).toHaveLength(7);
    for (const author of counts) expect(author.books_count).toBe(author.actual);
    expect(counts.map((author) => author.actual)).toEqual([1429, 1429, 1429, 1429, 1428, 1428, 1428]);
  });

  it('a COPY is one statement: each author gets one count change, one version, one outbox row', async () => {
    const run = await runCli(['seed', '--authors', '3', '--books', '3000', '--json'], env());
    const seeded = parseJson<SeedResult>(run);
    const { rows } = await db.pool.query<{ author_id: number; rows: number }>(
      `SELECT author_id, count(*)::int AS rows FROM tally.count_outbox WHERE author_id BETWEEN $1 AND $2 GROUP BY 1 ORDER BY 1`,
      [seeded.firstAuthorId, seeded.lastAuthorId],
    );
    // One row when the author was created (count 0), one for the COPY of its books.
    expect(rows.map((row) => row.rows)).toEqual([2, 2, 2]);
  });

  it('--distribution skewed gives the first author the most books, and the total stays exact', async () => {
    const run = await runCli(['seed', '--authors', '10', '--books', '5000', '--distribution', 'skewed', '--json'], env());
    const seeded = parseJson<SeedResult>(run);
    const counts = await authorCounts(seeded.firstAuthorId, seeded.lastAuthorId);
    const actual = counts.map((author) => author.actual);
    expect(actual.reduce((sum, n) => sum + n, 0)).toBe(5000);
    expect(actual[0]).toBeGreaterThan(5 * actual[9]!);
    expect([...actual].sort((a, b) => b - a)).toEqual(actual);
    for (const author of counts) expect(author.books_count).toBe(author.actual);
  });

  it('--null-counts leaves every new author\'s count NULL (not computed), books in place', async () => {
    const run = await runCli(['seed', '--authors', '4', '--books', '400', '--null-counts', '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    const seeded = parseJson<SeedResult>(run);
    expect(seeded.nullCounts).toBe(true);
    const counts = await authorCounts(seeded.firstAuthorId, seeded.lastAuthorId);
    expect(counts.map((author) => author.books_count)).toEqual([null, null, null, null]);
    expect(counts.map((author) => author.actual)).toEqual([100, 100, 100, 100]);
  });

  it('against a database that was never migrated, says to run tally migrate', async () => {
    const run = await runCli(['seed', '--authors', '1', '--books', '1'], { ...env(), DATABASE_URL: databaseUrl('postgres') });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('tally migrate');
  });
});
