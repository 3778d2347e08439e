// What a run measures and how long: the full plan behind `npm run bench`, and a smoke plan with
// tiny sizes that exercises every section in seconds (bench/test/smoke.test.ts).

/** The API's default page_size (DRF's PAGE_SIZE): the benchmark requests default pages. */
export const PAGE_SIZE = 20;

export const SECTIONS = ['read', 'write'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BigAuthor {
  /** Shown in the report: 10k, 100k, 1M. */
  label: string;
  books: number;
}

export interface LoadDuration {
  /** Seconds of load per variant and round. */
  measureSec: number;
  /**
   * Requests sent before each measurement, discarded: enough for every pooled connection to run
   * each statement more than five times, past PostgreSQL's custom-plan phase of prepared
   * statements, so a freshly started server is measured in its steady state.
   */
  warmupRequests: number;
  /** ...or this many seconds, whichever comes first, so a slow variant does not stretch the run. */
  warmupMaxSec: number;
}

/** How much load one run sends: for a time, stopping early after maxRequests when given. */
export interface LoadLength {
  durationSec: number;
  maxRequests?: number;
}

export interface BenchPlan {
  name: 'full' | 'smoke';
  /** A/B rounds: every variant runs once per round, in an order rotated each round. */
  rounds: number;
  /** Small authors, ids contiguous: the write path's writers spread over them. */
  smallAuthors: number;
  /** Small author i gets i*7 mod this many books (0 .. max-1): a spread of short lists. */
  smallAuthorMaxBooks: number;
  bigAuthors: BigAuthor[];
  /** HTTP and SQL load: fixed concurrency (connections) and duration. */
  connections: number;
  load: LoadDuration;
  /** Deep pages: rows skipped before the page, on the largest author (0 is the first page). */
  deepPageOffsets: number[];
  deepLoad: LoadDuration;
  /** Rows of the timed INSERT ... SELECT. */
  bulkInsertRows: number;
  /** pgbench: writers, and either a duration or a number of transactions per writer. */
  pgbench: { clients: number; threads: number } & ({ durationSec: number } | { transactionsPerClient: number });
  /** Commit-to-Redis lag: a paced writer at this many writes/s for this long. */
  lag: { writesPerSec: number; durationSec: number; writers: number };
}

export const FULL_PLAN: BenchPlan = {
  name: 'full',
  rounds: 3,
  smallAuthors: 1000,
  smallAuthorMaxBooks: 50,
  bigAuthors: [
    { label: '10k', books: 10_000 },
    { label: '100k', books: 100_000 },
    { label: '1M', books: 1_000_000 },
  ],
  connections: 16,
  load: { measureSec: 3, warmupRequests: 200, warmupMaxSec: 5 },
  deepPageOffsets: [0, 10_000, 500_000],
  deepLoad: { measureSec: 2, warmupRequests: 200, warmupMaxSec: 5 },
  bulkInsertRows: 200_000,
  pgbench: { clients: 8, threads: 2, durationSec: 4 },
  lag: { writesPerSec: 1000, durationSec: 8, writers: 16 },
};

export const SMOKE_PLAN: BenchPlan = {
  name: 'smoke',
  rounds: 1,
  smallAuthors: 20,
  smallAuthorMaxBooks: 5,
  bigAuthors: [
    { label: '50', books: 50 },
    { label: '200', books: 200 },
    { label: '1000', books: 1000 },
  ],
  connections: 4,
  load: { measureSec: 0.3, warmupRequests: 40, warmupMaxSec: 1 },
  deepPageOffsets: [0, 100, 500],
  deepLoad: { measureSec: 0.3, warmupRequests: 40, warmupMaxSec: 1 },
  bulkInsertRows: 2000,
  pgbench: { clients: 2, threads: 1, transactionsPerClient: 50 },
  lag: { writesPerSec: 100, durationSec: 1, writers: 2 },
};

/** The largest author: the one the read-path targets, the /health ratio and deep pages use. */
export function largestAuthor(plan: BenchPlan): BigAuthor {
  const largest = [...plan.bigAuthors].sort((a, b) => b.books - a.books)[0];
  if (!largest) throw new Error('the benchmark plan has no big authors');
  return largest;
}
