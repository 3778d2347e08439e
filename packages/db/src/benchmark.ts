// SQL of the benchmark suite (bench/): a database of its own, big authors generated server-side,
// and the write-path peers that `book` is compared with. Nothing here runs in the API or worker.
//
// The peers live in schema "bench", next to the real tables, and copy `book` exactly (LIKE ...
// INCLUDING ALL: columns, defaults, checks, identity, primary key and the (author_id, id) index),
// each with the same foreign key:
//   bench.book_plain  references author, no triggers: the cost of a write without any counter.
//   bench.book_seed   references bench.author_seed (a copy of author), with the seed design's
//                     row-level trigger `UPDATE ... SET books_count = books_count + 1`. It has its own
//                     author table so its counter neither meets our guard trigger nor competes with
//                     our counter for the same rows.
import pg from 'pg';
import { redact } from './migrate.js';
import type { Queryable } from './pool.js';

/** The three tables every write-path figure compares. */
export const WRITE_PATH_TABLES = {
  plain: 'bench.book_plain',
  seed: 'bench.book_seed',
  ours: 'book',
} as const;
export type WritePathDesign = keyof typeof WRITE_PATH_TABLES;
export const WRITE_PATH_DESIGNS = Object.keys(WRITE_PATH_TABLES) as WritePathDesign[];

// Table names are interpolated into statements: only these three, looked up, never caller text.
function tableOf(design: WritePathDesign): string {
  const table = WRITE_PATH_TABLES[design];
  if (table === undefined) throw new Error(`unknown write-path design ${String(design)}: expected ${WRITE_PATH_DESIGNS.join(', ')}`);
  return table;
}

const BENCH_DATABASE = /^tally_bench[a-z0-9_]*$/;

/**
 * Drops the benchmark database named in the URL (connections to it are closed first). Refuses any
 * name that does not start with tally_bench, so a mistyped URL cannot drop real data.
 */
export async function dropBenchmarkDatabase(connectionString: string): Promise<void> {
  const url = new URL(connectionString);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!BENCH_DATABASE.test(name)) {
    throw new Error(
      `Refusing to drop database "${name}" (${redact(connectionString)}): the benchmark recreates only databases ` +
        'named tally_bench*. Point it at such a database, e.g. postgres://postgres@127.0.0.1:5432/tally_bench.',
    );
  }
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000, application_name: 'tally-bench' });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Versions and settings that explain the figures: the report prints them. */
export async function readServerSettings(
  db: Queryable,
): Promise<{ version: string; sharedBuffers: string; synchronousCommit: string; maxConnections: string }> {
  const { rows } = await db.query<{ version: string; shared_buffers: string; synchronous_commit: string; max_connections: string }>(
    `SELECT current_setting('server_version') AS version, current_setting('shared_buffers') AS shared_buffers,
            current_setting('synchronous_commit') AS synchronous_commit, current_setting('max_connections') AS max_connections`,
  );
  const row = rows[0]!;
  return { version: row.version, sharedBuffers: row.shared_buffers, synchronousCommit: row.synchronous_commit, maxConnections: row.max_connections };
}

/**
 * Gives one author `count` more books in a single statement generated server-side (faster than any
 * client-side load: nothing crosses the wire). One statement, so the counter updates the author once.
 */
export async function insertGeneratedBooks(db: Queryable, authorId: number, count: number): Promise<void> {
  await db.query(
    `INSERT INTO book (author_id, title) SELECT $1::bigint, 'Book ' || g FROM generate_series(1, $2::int) AS g`,
    [authorId, count],
  );
}

/** Refreshes statistics and the visibility map (index-only scans for COUNT) of the given design's tables. */
export async function vacuumAnalyze(db: Queryable, designs: readonly WritePathDesign[] = ['ours']): Promise<void> {
  const tables = new Set(designs.map(tableOf));
  if (tables.has('book')) tables.add('author');
  if (tables.has(WRITE_PATH_TABLES.seed)) tables.add('bench.author_seed');
  await db.query(`VACUUM (ANALYZE) ${[...tables].join(', ')}`);
}

/** The id of the book `offset` rows into an author's list (ordered by id), for building deep cursors. */
export async function bookIdAtOffset(db: Queryable, authorId: number, offset: number): Promise<number | undefined> {
  const { rows } = await db.query<{ id: number }>(
    'SELECT id FROM book WHERE author_id = $1 ORDER BY id OFFSET $2 LIMIT 1',
    [authorId, offset],
  );
  return rows[0]?.id;
}

/** How many of the ids first..first+count-1 are authors (the writers' authors must all exist). */
export async function countAuthorsInRange(db: Queryable, first: number, count: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM author WHERE id BETWEEN $1 AND $2', [
    first,
    first + count - 1,
  ]);
  return rows[0]!.n;
}

/** (Re)creates schema "bench" with the peer tables; copies the current authors into bench.author_seed. */
export async function createWritePathPeers(db: Queryable): Promise<void> {
  await db.query(`
    DROP SCHEMA IF EXISTS bench CASCADE;
    CREATE SCHEMA bench;
    COMMENT ON SCHEMA bench IS 'Benchmark peers of book (bench/ workspace); safe to drop.';

    CREATE TABLE bench.book_plain (LIKE public.book INCLUDING ALL);
    ALTER TABLE bench.book_plain
      ADD FOREIGN KEY (author_id) REFERENCES public.author (id) ON DELETE CASCADE;

    CREATE TABLE bench.author_seed (LIKE public.author INCLUDING ALL);
    INSERT INTO bench.author_seed (id, name, books_count) SELECT id, name, 0 FROM public.author;
    CREATE TABLE bench.book_seed (LIKE public.book INCLUDING ALL);
    ALTER TABLE bench.book_seed
      ADD FOREIGN KEY (author_id) REFERENCES bench.author_seed (id) ON DELETE CASCADE;

    -- The seed design, INSERT only, as it was: one UPDATE of the author per inserted row.
    CREATE FUNCTION bench.tg_book_seed__count_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE bench.author_seed SET books_count = books_count + 1 WHERE id = NEW.author_id;
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER count_insert AFTER INSERT ON bench.book_seed
      FOR EACH ROW EXECUTE FUNCTION bench.tg_book_seed__count_insert();
  `);
}

/**
 * Empties a design's table between runs, untimed. For ours it is a TRUNCATE through our own
 * trigger (every count back to 0, mirrored by the relay); the seed's counts are reset by hand.
 */
export async function emptyWritePathTable(db: Queryable, design: WritePathDesign): Promise<void> {
  await db.query(`TRUNCATE ${tableOf(design)}`);
  if (design === 'seed') await db.query('UPDATE bench.author_seed SET books_count = 0 WHERE books_count <> 0');
}

/**
 * The bulk write being timed: `rows` books in one INSERT ... SELECT, spread round-robin over the
 * authors first..first+authorCount-1.
 */
export async function bulkInsertBooks(
  db: Queryable,
  design: WritePathDesign,
  load: { rows: number; firstAuthorId: number; authorCount: number },
): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO ${tableOf(design)} (author_id, title)
     SELECT $1::bigint + (g % $2::int), 'Bulk book ' || g FROM generate_series(1, $3::int) AS g`,
    [load.firstAuthorId, load.authorCount, load.rows],
  );
  return rowCount ?? 0;
}

/**
 * A pgbench script: each transaction inserts one book for an author drawn uniformly from
 * first..first+authorCount-1 (authorCount 1: every writer on the same author).
 */
export function pgbenchInsertScript(design: WritePathDesign, authors: { firstAuthorId: number; authorCount: number }): string {
  const first = Math.trunc(authors.firstAuthorId);
  const last = first + Math.trunc(authors.authorCount) - 1;
  if (!Number.isSafeInteger(first) || first < 1 || last < first) {
    throw new RangeError(`pgbench authors must be a non-empty range of positive ids, got ${first}..${last}`);
  }
  return [
    `\\set author_id random(${first}, ${last})`,
    `INSERT INTO ${tableOf(design)} (author_id, title) VALUES (:author_id, 'pgbench book');`,
    '',
  ].join('\n');
}
