// `tally seed`: bulk-load authors and books with COPY, in one transaction (an interrupted seed
// leaves nothing behind). Each COPY is one statement, so the counter triggers update each author
// once per seed instead of once per book.
import { copyAuthors, copyBooks, forgetBooksCounts, reserveAuthorIds, withTransaction, type SeedAuthor, type SeedBook } from '@tally/db';
import type { CliContext } from '../context.js';
import { booksPerAuthor, type Distribution } from '../seed-plan.js';

export interface SeedOptions {
  authors: number;
  books: number;
  nullCounts: boolean;
  distribution: Distribution;
}

export interface SeedResult {
  authors: number;
  books: number;
  firstAuthorId: number | null;
  lastAuthorId: number | null;
  distribution: Distribution;
  /** Whether the counts were left NULL (not computed), as for data that predates the counter. */
  nullCounts: boolean;
  seconds: number;
}

const BATCH = 10_000;

function* authorBatches(ids: readonly number[]): Generator<SeedAuthor[]> {
  for (let start = 0; start < ids.length; start += BATCH) {
    yield ids.slice(start, start + BATCH).map((id) => ({ id, name: `Author ${id}` }));
  }
}

function* bookBatches(ids: readonly number[], perAuthor: readonly number[], onBatch: (rows: number) => void): Generator<SeedBook[]> {
  let batch: SeedBook[] = [];
  for (const [index, authorId] of ids.entries()) {
    const count = perAuthor[index]!;
    for (let number = 1; number <= count; number += 1) {
      batch.push({ authorId, title: `Book ${number} by author ${authorId}` });
      if (batch.length === BATCH) {
        onBatch(batch.length);
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) {
    onBatch(batch.length);
    yield batch;
  }
}

export async function runSeed(context: CliContext, options: SeedOptions): Promise<SeedResult> {
  const pool = await context.database();
  const started = performance.now();
  const perAuthor = booksPerAuthor(options.authors, options.books, options.distribution);
  const progress = context.output.progress('books', options.books);
  let ids: number[];
  try {
    ids = await withTransaction(pool, async (client) => {
      const reserved = await reserveAuthorIds(client, options.authors);
      await copyAuthors(client, authorBatches(reserved));
      await copyBooks(client, bookBatches(reserved, perAuthor, (rows) => progress.increment(rows)));
      if (options.nullCounts) {
        for (let start = 0; start < reserved.length; start += BATCH) {
          await forgetBooksCounts(client, reserved.slice(start, start + BATCH));
        }
      }
      return reserved;
    });
  } finally {
    progress.stop();
  }
  const result: SeedResult = {
    authors: ids.length,
    books: options.books,
    firstAuthorId: ids[0] ?? null,
    lastAuthorId: ids.at(-1) ?? null,
    distribution: options.distribution,
    nullCounts: options.nullCounts,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
  context.output.result(result, [
    `Seeded ${result.authors} authors (ids ${result.firstAuthorId ?? '-'}..${result.lastAuthorId ?? '-'}) and ` +
      `${result.books} books (${result.distribution}) in ${result.seconds} s` +
      (result.nullCounts ? '; counts left NULL: compute them with `tally counts backfill`' : ''),
  ]);
  return result;
}
