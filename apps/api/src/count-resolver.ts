// The one place that decides a list's `count`. Sources are tried in the configured order
// (COUNT_SOURCES, default redis,column,count), each only when it can be trusted:
//   redis  - only while the worker's heartbeat is alive (HeartbeatWatch), one HMGET; an error or
//            the 100 ms command timeout falls through at once. The API never writes counts.
//   column - author.books_count, exact in its snapshot; NULL means not computed yet.
//   count  - COUNT(*), coalesced per author (SingleFlight) and followed by a backfill job so the
//            column is computed and the next request is cheap again.
// Callers run it concurrently with the page query, so it adds no serial latency.
import { performance } from 'node:perf_hooks';
import type { CountSource } from '@tally/config';
import { countAllBooks, countAuthors, countBooks, readColumnCount, sumColumnCounts, type ColumnCount, type Queryable } from '@tally/db';
import { readMirroredCount, type RedisClient, type RedisKeys } from '@tally/cache';
import type { BackfillRequests } from './backfill-requests.js';
import { ApiError } from './errors.js';
import type { HeartbeatWatch } from './heartbeat-watch.js';
import type { ApiMetrics, CountFallbackReason } from './metrics.js';
import { SingleFlight } from './single-flight.js';

export interface ResolvedCount {
  count: number;
  source: CountSource;
}

export interface AuthorBooksCount extends ResolvedCount {
  /** The lookup read the author's row, so it exists (a Redis answer may outlive a deleted author). */
  authorConfirmed: boolean;
}

export interface CountResolverOptions {
  db: Queryable;
  redis: RedisClient;
  keys: RedisKeys;
  heartbeat: HeartbeatWatch;
  backfill: BackfillRequests;
  metrics: ApiMetrics;
  sources: readonly CountSource[];
  /**
   * How long a COUNT(*) made because a column was NULL is reused. For one author it cannot go
   * stale: it is only consulted while the column is still NULL, and any counted write computes
   * the column. The all-books total can change meanwhile, which is why the reuse is bounded by
   * the staleness budget. A COUNT(*) the column was not asked for (COUNT_SOURCES without column)
   * is coalesced but never reused.
   */
  countReuseMs: number;
}

function countUnavailable(sources: readonly CountSource[]): ApiError {
  return new ApiError(
    503,
    {
      detail:
        `No count source allowed by COUNT_SOURCES (${sources.join(',')}) can count this list right now ` +
        '(not mirrored in Redis, or not computed yet and COUNT(*) disabled); retry shortly.',
    },
    { 'retry-after': '1' },
  );
}

export class CountResolver {
  private readonly useRedis: boolean;
  private readonly useColumn: boolean;
  private readonly useCount: boolean;
  private readonly counts: SingleFlight<number | 'all', number>;

  constructor(private readonly options: CountResolverOptions) {
    this.useRedis = options.sources.includes('redis');
    this.useColumn = options.sources.includes('column');
    this.useCount = options.sources.includes('count');
    this.counts = new SingleFlight();
  }

  /**
   * The number of books of `authorId`; null when the author does not exist. `skipRedis` asks for
   * a source that is exact now, for when a Redis count led to a page that turned out empty.
   * `column` is the author's column when the page query already reads it (one round trip for
   * both); without it the column is read here, when Redis cannot answer.
   */
  async authorBooks(
    authorId: number,
    options: { skipRedis?: boolean; column?: Promise<ColumnCount | undefined> } = {},
  ): Promise<AuthorBooksCount | null> {
    const started = performance.now();
    const result = await this.lookupAuthorBooks(authorId, options.skipRedis ?? false, options.column);
    return result && this.observed(result, started);
  }

  /** The number of all books: the sum of the columns when every count is known, else COUNT(*). */
  async allBooks(): Promise<ResolvedCount> {
    const started = performance.now();
    let unknownCounts = false;
    if (this.useColumn) {
      const total = await sumColumnCounts(this.options.db);
      if (total.unknownAuthors === 0) return this.observed({ count: total.booksCount, source: 'column' }, started);
      this.fallback('column_null');
      unknownCounts = true;
    }
    if (!this.useCount) {
      if (unknownCounts) this.options.backfill.request('all');
      throw countUnavailable(this.options.sources);
    }
    const count = await this.coalescedCount('all', unknownCounts, () => countAllBooks(this.options.db));
    return this.observed({ count, source: 'count' }, started);
  }

  /** The number of authors: COUNT(*) of a table that is small next to the books. */
  async authors(): Promise<ResolvedCount> {
    const started = performance.now();
    return this.observed({ count: await countAuthors(this.options.db), source: 'count' }, started);
  }

  private async lookupAuthorBooks(
    authorId: number,
    skipRedis: boolean,
    columnFromPage: Promise<ColumnCount | undefined> | undefined,
  ): Promise<AuthorBooksCount | null> {
    if (this.useRedis && !skipRedis) {
      const mirrored = await this.readRedis(authorId);
      if (mirrored !== undefined) return { count: mirrored, source: 'redis', authorConfirmed: false };
    }
    let columnIsNull = false;
    if (this.useColumn) {
      const column = await (columnFromPage ?? readColumnCount(this.options.db, authorId));
      if (column === undefined) return null;
      if (column.booksCount !== null) return { count: column.booksCount, source: 'column', authorConfirmed: true };
      this.fallback('column_null');
      columnIsNull = true;
    }
    if (!this.useCount) {
      if (columnIsNull) this.options.backfill.request(authorId);
      throw countUnavailable(this.options.sources);
    }
    const count = await this.coalescedCount(authorId, columnIsNull, () => countBooks(this.options.db, authorId));
    return { count, source: 'count', authorConfirmed: columnIsNull };
  }

  /** The mirrored count, or undefined when Redis may not or cannot answer. Never throws. */
  private async readRedis(authorId: number): Promise<number | undefined> {
    if (!this.options.heartbeat.isFresh()) {
      this.fallback('heartbeat_stale');
      return undefined;
    }
    try {
      const mirrored = await readMirroredCount(this.options.redis, this.options.keys, authorId);
      if (mirrored) return mirrored.booksCount;
      this.fallback('redis_missing');
    } catch {
      this.fallback('redis_error');
    }
    return undefined;
  }

  /** COUNT(*) through single flight; `columnIsNull` allows reusing it and asks for a backfill. */
  private coalescedCount(key: number | 'all', columnIsNull: boolean, count: () => Promise<number>): Promise<number> {
    const work = () => {
      this.options.metrics.countQueries.labels(key === 'all' ? 'all' : 'author').inc();
      return count();
    };
    const { promise, started } = this.counts.run(key, work, columnIsNull ? this.options.countReuseMs : 0);
    if (started && columnIsNull) this.options.backfill.request(key);
    return promise;
  }

  private fallback(reason: CountFallbackReason): void {
    this.options.metrics.fallbacks.labels(reason).inc();
  }

  private observed<T extends ResolvedCount>(result: T, started: number): T {
    this.options.metrics.resolveDuration.labels(result.source).observe((performance.now() - started) / 1000);
    return result;
  }
}
