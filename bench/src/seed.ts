// The benchmark's own data: a spread of small authors (the write path's writers) loaded with COPY,
// and the big authors (10k, 100k, 1M books) generated server-side in one INSERT ... SELECT each,
// which is faster than any client-side load. Then VACUUM ANALYZE, so COUNT(*) gets its index-only
// scan and every plan sees real statistics, as on a production table.
import {
  copyAuthors,
  copyBooks,
  dropBenchmarkDatabase,
  ensureDatabase,
  insertGeneratedBooks,
  migrate,
  reserveAuthorIds,
  vacuumAnalyze,
  type Pool,
  type SeedBook,
} from '@tally/db';
import type { BenchPlan, BigAuthor } from './plan.js';
import { timed, type Progress } from './progress.js';

export interface SeededBigAuthor extends BigAuthor {
  authorId: number;
}

export interface SeededData {
  /** Small authors have the contiguous ids first..first+count-1. */
  smallAuthors: { firstAuthorId: number; authorCount: number };
  bigAuthors: SeededBigAuthor[];
}

/** Recreates the database from scratch (recreate) or only brings its schema up to date. */
export async function prepareDatabase(databaseUrl: string, recreate: boolean, progress: Progress): Promise<void> {
  if (recreate) {
    progress.step('database: dropping and recreating it');
    await dropBenchmarkDatabase(databaseUrl);
    await ensureDatabase(databaseUrl);
  }
  const applied = await migrate(databaseUrl);
  progress.step(`database: ${applied.length} migration(s) applied`);
}

export function smallAuthorBooks(plan: BenchPlan, index: number): number {
  return (index * 7) % plan.smallAuthorMaxBooks;
}

function* smallAuthorBookBatches(plan: BenchPlan, firstAuthorId: number): Generator<SeedBook[]> {
  for (let index = 0; index < plan.smallAuthors; index += 1) {
    const books = smallAuthorBooks(plan, index);
    yield Array.from({ length: books }, (_, book) => ({ authorId: firstAuthorId + index, title: `Book ${book + 1}` }));
  }
}

/** Seeds the small authors, and the big ones when `withBigAuthors` (only the read path needs them). */
export async function seedBenchData(pool: Pool, plan: BenchPlan, progress: Progress, withBigAuthors: boolean): Promise<SeededData> {
  const big = withBigAuthors ? plan.bigAuthors : [];
  const ids = await reserveAuthorIds(pool, plan.smallAuthors + big.length);
  const smallIds = ids.slice(0, plan.smallAuthors);
  const firstAuthorId = smallIds[0]!;
  // pgbench draws writers' authors as first + random offset: the ids must leave no gap.
  if (smallIds.some((id, index) => id !== firstAuthorId + index)) {
    throw new Error(
      `the author id sequence skipped values (${smallIds[0]}..${smallIds[smallIds.length - 1]}): the benchmark needs ` +
        'a fresh database (it recreates tally_bench unless it was given one).',
    );
  }
  const bigAuthors = big.map((author, index) => ({ ...author, authorId: ids[plan.smallAuthors + index]! }));

  const client = await pool.connect();
  try {
    const authors = [
      ...smallIds.map((id, index) => ({ id, name: `Small author ${index + 1}` })),
      ...bigAuthors.map((author) => ({ id: author.authorId, name: `Author with ${author.label} books` })),
    ];
    await copyAuthors(client, [authors]);
    const { result: smallBooks, ms } = await timed(() => copyBooks(client, smallAuthorBookBatches(plan, firstAuthorId)));
    progress.step(`seed: ${authors.length} authors; ${smallBooks} books of ${plan.smallAuthors} small authors (COPY, ${(ms / 1000).toFixed(1)} s)`);
  } finally {
    client.release();
  }

  for (const author of bigAuthors) {
    const { ms } = await timed(() => insertGeneratedBooks(pool, author.authorId, author.books));
    progress.step(`seed: ${author.books.toLocaleString('en-US')} books of author ${author.authorId} (${(ms / 1000).toFixed(1)} s)`);
  }
  const { ms } = await timed(() => vacuumAnalyze(pool));
  progress.step(`seed: VACUUM ANALYZE (${(ms / 1000).toFixed(1)} s)`);
  return { smallAuthors: { firstAuthorId, authorCount: plan.smallAuthors }, bigAuthors };
}
