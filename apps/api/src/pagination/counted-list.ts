// A counted, paginated list: the page query and the count lookup run concurrently, then the rows
// correct the count. Page-number mode (DRF PageNumberPagination) by default; cursor mode (keyset
// on id) when the request has a `cursor` parameter, even empty.
//
// Rows are the truth about the page: one row more than the page is read to decide `next`; a page
// that has rows is served even when a lagging count says it is past the end; the count is raised
// to what the rows prove, and on the page where the list ends it is exactly offset + rows.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CountSource } from '@tally/config';
import { invalidPage, notFound } from '../errors.js';
import type { ApiMetrics } from '../metrics.js';
import { decodeCursor, encodeCursor, type Cursor } from './cursor.js';
import { RequestUrl } from './links.js';
import { readPageNumber, readPageSize } from './params.js';

export interface ListCount {
  count: number;
  source: CountSource;
  /** The lookup proved the list's parent exists (else an empty page asks parentExists()). */
  parentConfirmed: boolean;
}

/** What a list endpoint provides: its rows in id order, its count, and whether its parent exists. */
export interface CountedList<Row extends { id: number }> {
  page(limit: number, offset: number): Promise<Row[]>;
  keyset(from: number | null, limit: number, direction: 'forward' | 'backward'): Promise<Row[]>;
  /** null when the parent does not exist; `exact` passes over sources that may lag (Redis). */
  count(exact: boolean): Promise<ListCount | null>;
  parentExists(): Promise<boolean>;
}

export interface CountedPage<Row> {
  count: number;
  next: string | null;
  previous: string | null;
  results: Row[];
}

const lastPageOf = (count: number, pageSize: number): number => Math.max(1, Math.ceil(count / pageSize));

/**
 * Past this many rows an OFFSET page costs more than a count lookup (PostgreSQL walks every skipped
 * row), so the count comes first, and a page an exact count puts past the end is refused without
 * the page query: `?page=400000000000` must not be able to pin database connections.
 */
const DEEP_OFFSET = 10_000;

/** The count the rows allow: exact where the list ends on this page, else at least what they prove. */
function correctedCount(count: number, offset: number, rows: number, hasMore: boolean, reachesStart: boolean): number {
  if (!hasMore && reachesStart) return offset + rows;
  return Math.max(count, offset + rows + (hasMore ? 1 : 0));
}

function found(counted: ListCount | null): ListCount {
  if (counted === null) throw notFound();
  return counted;
}

async function pageNumberMode<Row extends { id: number }>(
  list: CountedList<Row>,
  url: RequestUrl,
  pageSize: number,
): Promise<{ page: CountedPage<Row>; source: CountSource }> {
  const requested = readPageNumber(url.query, pageSize);
  let page: number;
  let rows: Row[];
  let counted: ListCount;
  if (requested === 'last') {
    // The one mode where the count must come first: it decides which rows to read.
    counted = found(await list.count(false));
    page = lastPageOf(counted.count, pageSize);
    rows = await list.page(pageSize + 1, (page - 1) * pageSize);
    if (rows.length === 0 && page > 1) {
      // A lagging count (deletes not yet mirrored) pointed past the end: ask an exact source.
      counted = found(await list.count(true));
      page = lastPageOf(counted.count, pageSize);
      rows = await list.page(pageSize + 1, (page - 1) * pageSize);
    }
  } else if ((requested - 1) * pageSize > DEEP_OFFSET) {
    page = requested;
    const offset = (page - 1) * pageSize;
    counted = found(await list.count(false));
    // A Redis count may lag: ask an exact source before refusing rows that may exist.
    if (offset >= counted.count && counted.source === 'redis') counted = found(await list.count(true));
    if (offset >= counted.count) throw invalidPage();
    rows = await list.page(pageSize + 1, offset);
  } else {
    page = requested;
    const [fetched, lookup] = await Promise.all([list.page(pageSize + 1, (page - 1) * pageSize), list.count(false)]);
    rows = fetched;
    counted = found(lookup);
  }
  const hasMore = rows.length > pageSize;
  const results = hasMore ? rows.slice(0, pageSize) : rows;
  if (results.length === 0) {
    if (!counted.parentConfirmed && !(await list.parentExists())) throw notFound();
    if (page > 1) throw invalidPage();
  }
  const offset = (page - 1) * pageSize;
  return {
    source: counted.source,
    page: {
      count: correctedCount(counted.count, offset, results.length, hasMore, true),
      next: hasMore ? url.with('page', page + 1) : null,
      previous: page === 1 ? null : url.with('page', page === 2 ? null : page - 1),
      results,
    },
  };
}

async function cursorMode<Row extends { id: number }>(
  list: CountedList<Row>,
  url: RequestUrl,
  pageSize: number,
): Promise<{ page: CountedPage<Row>; source: CountSource }> {
  const cursor = decodeCursor(url.query.get('cursor') ?? '');
  const [fetched, lookup] = await Promise.all([
    list.keyset(cursor.position, pageSize + 1, cursor.reverse ? 'backward' : 'forward'),
    list.count(false),
  ]);
  const counted = found(lookup);
  const hasMore = fetched.length > pageSize;
  const results = hasMore ? fetched.slice(0, pageSize) : fetched;
  if (cursor.reverse) results.reverse();
  if (results.length === 0 && !counted.parentConfirmed && !(await list.parentExists())) throw notFound();

  const first = results[0]?.id;
  const last = results[results.length - 1]?.id;
  const link = (target: Cursor) => url.with('cursor', encodeCursor(target));
  let next: string | null;
  let previous: string | null;
  if (cursor.reverse) {
    previous = hasMore ? link({ position: first!, reverse: true }) : null;
    next = cursor.position === null ? null : link({ position: last ?? cursor.position - 1, reverse: false });
  } else {
    next = hasMore ? link({ position: last!, reverse: false }) : null;
    previous = cursor.position === null ? null : link({ position: first ?? cursor.position + 1, reverse: true });
  }
  // From either end of the list with nothing beyond the page, the page is the whole list.
  const wholeList = cursor.position === null;
  return {
    source: counted.source,
    page: { count: correctedCount(counted.count, 0, results.length, hasMore, wholeList), next, previous, results },
  };
}

/** Builds the page the request asks for (page number or cursor). */
export async function paginate<Row extends { id: number }>(
  request: FastifyRequest,
  list: CountedList<Row>,
): Promise<{ page: CountedPage<Row>; source: CountSource }> {
  const url = RequestUrl.of(request);
  const pageSize = readPageSize(url.query);
  return url.query.has('cursor') ? cursorMode(list, url, pageSize) : pageNumberMode(list, url, pageSize);
}

/** Sends a counted page with its X-Count-Source header and records the source. */
export async function sendCountedPage<Row extends { id: number }>(
  request: FastifyRequest,
  reply: FastifyReply,
  list: CountedList<Row>,
  metrics: ApiMetrics,
): Promise<CountedPage<Row>> {
  const { page, source } = await paginate(request, list);
  metrics.countServed(source);
  reply.header('x-count-source', source);
  return page;
}
