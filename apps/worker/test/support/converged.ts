// The one check every fault test ends with: for every author, Redis = column = COUNT(*) (a NULL
// column, not computed yet, has no Redis key), nothing left in the outbox, and no Redis key for
// an author that does not exist. Waits (bounded) because
// the worker converges asynchronously.
import { readMirroredCount, scanKeys, type RedisClient, type RedisKeys } from '@tally/cache';
import type { Pool } from '@tally/db';
import { deletePrefix } from '../../../../test/support/redis.js';

export interface ConvergenceTarget {
  pool: Pool;
  redis: RedisClient;
  keys: RedisKeys;
}

/** What differs right now; empty when converged. */
export async function divergences({ pool, redis, keys }: ConvergenceTarget): Promise<string[]> {
  const problems: string[] = [];
  const { rows: outbox } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tally.count_outbox');
  if (outbox[0]!.n > 0) problems.push(`${outbox[0]!.n} outbox row(s) not relayed`);
  const { rows } = await pool.query<{ id: number; books_count: number | null; version: number; actual: number }>(
    `SELECT a.id, a.books_count, a.books_count_version AS version,
            (SELECT count(*) FROM book b WHERE b.author_id = a.id)::int AS actual
       FROM author a ORDER BY a.id`,
  );
  const mirrored = await Promise.all(rows.map((row) => readMirroredCount(redis, keys, row.id)));
  rows.forEach((row, index) => {
    const cached = mirrored[index];
    // NULL is "not computed yet" (backfill's work): then Redis must have no count at all.
    if (row.books_count !== null && row.books_count !== row.actual) {
      problems.push(`author ${row.id}: column ${row.books_count} but COUNT(*) ${row.actual}`);
    }
    if (row.books_count === null) {
      if (cached) problems.push(`author ${row.id}: count not computed but Redis has ${JSON.stringify(cached)}`);
    } else if (!cached || cached.booksCount !== row.books_count || cached.version !== row.version) {
      problems.push(`author ${row.id}: column ${row.books_count}@v${row.version} but Redis ${cached ? `${cached.booksCount}@v${cached.version}` : 'missing'}`);
    }
  });
  const existing = new Set(rows.map((row) => row.id));
  // Every master of a cluster: a SCAN sent to the cluster client would see one node only.
  for await (const found of scanKeys(redis, keys.authorPattern)) {
    for (const key of found) {
      const authorId = keys.authorIdOf(key);
      if (authorId !== undefined && !existing.has(authorId)) problems.push(`Redis key ${key} of a missing author`);
    }
  }
  return problems;
}

/** Waits until converged; fails with what still differs after `timeoutMs`. */
export async function expectConverged(target: ConvergenceTarget, options: { timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let problems: string[] = [];
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    problems = await divergences(target);
    if (problems.length === 0) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not converged after ${options.timeoutMs ?? 15_000} ms (${problems.length} problem(s)):\n  ${problems.slice(0, 15).join('\n  ')}`);
}

/** Polls `condition` until it holds (bounded); fails with `what` otherwise. */
export async function waitFor(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 10_000; attempt += 1) {
    if (await condition()) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Empties the test database's tables and the prefix's keys between tests of one file. */
export async function resetData({ pool, redis, keys }: ConvergenceTarget): Promise<void> {
  await pool.query('TRUNCATE author CASCADE');
  await pool.query('DELETE FROM tally.count_outbox');
  await deletePrefix(redis, keys.prefix);
}
