// `tally counts inspect` and `tally counts verify [--fix]` on real data: drift made behind the
// counter's back (triggers off) or in Redis is found, listed and repaired; lag is not drift.
import { mirrorCounts } from '@tally/cache';
import { beforeEach, describe, expect, it } from 'vitest';
import { deletePrefix, useTestDatabase, useTestRedis } from '../../../test/support/index.js';
import { parseJson, runCli } from './run-cli.js';

const db = useTestDatabase();
const redis = useTestRedis();
const env = () => ({ DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix });

interface Drifting {
  authorId: number;
  columnState: string;
  redisState: string;
  column: { booksCount: number | null; version: number };
  count: number;
  repaired?: { booksCount: number | null; version: number };
}
interface VerifyResult {
  checked: number;
  drifting: Drifting[];
  catchingUp: number;
  notComputed: number;
  ok: boolean;
}
interface InspectResult {
  redis: { booksCount: number; version: number } | null;
  column: { booksCount: number | null; version: number };
  count: number;
  pending: boolean;
  columnState: string;
  redisState: string;
  agrees: boolean;
}

/** Authors with books, mirrored to Redis as a caught-up relay would have left them. */
async function mirroredAuthors(books: readonly number[]): Promise<number[]> {
  const ids: number[] = [];
  for (const count of books) {
    const { rows } = await db.pool.query<{ id: number }>(`INSERT INTO author (name) VALUES ('a') RETURNING id`);
    ids.push(rows[0]!.id);
    await db.pool.query(`INSERT INTO book (author_id, title) SELECT $1, 'b' || g FROM generate_series(1, $2) g`, [rows[0]!.id, count]);
  }
  await mirrorEverything();
  return ids;
}

async function mirrorEverything(): Promise<void> {
  const { rows } = await db.pool.query<{ id: number; books_count: number | null; books_count_version: number }>(
    'SELECT id, books_count, books_count_version FROM author',
  );
  await mirrorCounts(
    redis.redis,
    redis.keys,
    rows.map((row) => ({ authorId: row.id, booksCount: row.books_count, version: row.books_count_version })),
  );
  await db.pool.query('DELETE FROM tally.count_outbox');
}

/** Inserts books with the counter's triggers off, as a careless restore or bulk load would. */
async function addBooksBehindTheCounter(authorId: number, count: number): Promise<void> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query(`INSERT INTO book (author_id, title) SELECT $1, 'hidden ' || g FROM generate_series(1, $2) g`, [authorId, count]);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

beforeEach(async () => {
  await db.pool.query('TRUNCATE book, author, tally.count_outbox');
  await deletePrefix(redis.redis, redis.prefix);
});

describe('tally counts verify', () => {
  it('passes (exit 0) when column, COUNT(*) and Redis agree', async () => {
    await mirroredAuthors([3, 0, 5]);
    const run = await runCli(['counts', 'verify', '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    expect(parseJson<VerifyResult>(run)).toMatchObject({ checked: 3, drifting: [], ok: true });
  });

  it('finds books written with the triggers off (exit 3, author listed), --fix repairs column and Redis, then verify passes', async () => {
    const [clean, drifted] = await mirroredAuthors([4, 6]);
    await addBooksBehindTheCounter(drifted!, 3);

    const found = await runCli(['counts', 'verify'], env());
    expect(found.code).toBe(3);
    expect(found.stdout).toContain(`author ${drifted}: column 6 but COUNT(*) 9`);
    expect(found.stdout).not.toContain(`author ${clean}:`);

    const fixed = await runCli(['counts', 'verify', '--fix', '--json'], env());
    expect(fixed.code, fixed.stderr).toBe(0);
    const repaired = parseJson<VerifyResult>(fixed).drifting;
    expect(repaired).toHaveLength(1);
    expect(repaired[0]).toMatchObject({ authorId: drifted, columnState: 'drift', count: 9, repaired: { booksCount: 9 } });

    const { rows } = await db.pool.query<{ books_count: number }>('SELECT books_count FROM author WHERE id = $1', [drifted]);
    expect(rows[0]!.books_count).toBe(9);
    expect(await redis.redis.hget(redis.keys.author(drifted!), 'books_count')).toBe('9');

    const again = await runCli(['counts', 'verify', '--json'], env());
    expect(again.code, again.stdout).toBe(0);
    expect(parseJson<VerifyResult>(again).drifting).toEqual([]);
  });

  it('finds a Redis count overwritten at the column\'s version, and --fix restores it', async () => {
    const [author] = await mirroredAuthors([5]);
    await redis.redis.hset(redis.keys.author(author!), 'books_count', '500');

    const found = await runCli(['counts', 'verify', '--json'], env());
    expect(found.code).toBe(3);
    expect(parseJson<VerifyResult>(found).drifting).toEqual([
      expect.objectContaining({ authorId: author, columnState: 'exact', redisState: 'wrong-count' }),
    ]);

    expect((await runCli(['counts', 'verify', '--fix'], env())).code).toBe(0);
    expect(await redis.redis.hget(redis.keys.author(author!), 'books_count')).toBe('5');
    expect((await runCli(['counts', 'verify'], env())).code).toBe(0);
  });

  it('a Redis key lost while nothing is pending is drift; --fix writes it back', async () => {
    const [author] = await mirroredAuthors([2]);
    await redis.redis.del(redis.keys.author(author!));
    const found = await runCli(['counts', 'verify', '--json'], env());
    expect(found.code).toBe(3);
    expect(parseJson<VerifyResult>(found).drifting[0]).toMatchObject({ authorId: author, redisState: 'missing' });
    expect((await runCli(['counts', 'verify', '--fix'], env())).code).toBe(0);
    expect(await redis.redis.hgetall(redis.keys.author(author!))).toMatchObject({ books_count: '2' });
  });

  it('Redis behind the column with the change still in the outbox is lag, not drift', async () => {
    const [author] = await mirroredAuthors([2]);
    // A normal write: the column moves on and the outbox holds the change for the relay.
    await db.pool.query(`INSERT INTO book (author_id, title) VALUES ($1, 'new')`, [author]);
    const run = await runCli(['counts', 'verify', '--json'], env());
    expect(run.code, run.stdout).toBe(0);
    expect(parseJson<VerifyResult>(run)).toMatchObject({ drifting: [], catchingUp: 1 });
  });

  it('NULL counts are reported as not computed, not as drift', async () => {
    await mirroredAuthors([1, 1]);
    const seeded = await runCli(['seed', '--authors', '2', '--books', '10', '--null-counts', '--json'], env());
    expect(seeded.code, seeded.stderr).toBe(0);
    await db.pool.query('DELETE FROM tally.count_outbox');
    const run = await runCli(['counts', 'verify', '--json'], env());
    expect(run.code, run.stdout).toBe(0);
    expect(parseJson<VerifyResult>(run)).toMatchObject({ checked: 4, notComputed: 2, drifting: [] });
  });

  it('scans in chunks: drift in every chunk is found', async () => {
    const ids = await mirroredAuthors([1, 1, 1, 1, 1]);
    await addBooksBehindTheCounter(ids[0]!, 1);
    await addBooksBehindTheCounter(ids[4]!, 2);
    const run = await runCli(['counts', 'verify', '--chunk-size', '2', '--json'], env());
    expect(run.code).toBe(3);
    const result = parseJson<VerifyResult>(run);
    expect(result.checked).toBe(5);
    expect(result.drifting.map((entry) => entry.authorId)).toEqual([ids[0], ids[4]]);
  });
});

describe('tally counts inspect', () => {
  it('shows Redis, column and COUNT(*) with versions, and whether they agree', async () => {
    const [author] = await mirroredAuthors([7]);
    const run = await runCli(['counts', 'inspect', String(author), '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    const result = parseJson<InspectResult>(run);
    expect(result).toMatchObject({ count: 7, column: { booksCount: 7 }, redis: { booksCount: 7 }, agrees: true, redisState: 'in-sync' });
    expect(result.redis!.version).toBe(result.column.version);

    const text = await runCli(['counts', 'inspect', String(author)], env());
    expect(text.stdout).toMatch(/redis\s+7 \(version \d+\)/);
    expect(text.stdout).toMatch(/COUNT\(\*\)\s+7/);
  });

  it('reports drift behind the counter\'s back', async () => {
    const [author] = await mirroredAuthors([1]);
    await addBooksBehindTheCounter(author!, 2);
    const result = parseJson<InspectResult>(await runCli(['counts', 'inspect', String(author), '--json'], env()));
    expect(result).toMatchObject({ count: 3, column: { booksCount: 1 }, columnState: 'drift', agrees: false });
  });

  it('a missing author exits 1 and says so', async () => {
    const run = await runCli(['counts', 'inspect', '999999'], env());
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Author 999999 does not exist');
  });
});
