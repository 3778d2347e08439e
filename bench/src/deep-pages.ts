// Deep pages of the largest author, served with their count from Redis: offset pages (?page=N)
// and cursor pages (?cursor=...) that start 0, 10k and 500k rows in.
//
// A deep cursor is built the way the API builds its `next` links: the API's own encoder
// (apps/api/dist/pagination/cursor.js) applied to the id of the last row before the page, found
// with a keyset query. Before timing, one request checks that the page starts at the right row.
import { bookIdAtOffset, createPool } from '@tally/db';
import { probe, runHttpLoad } from './http-load.js';
import { PAGE_SIZE, largestAuthor } from './plan.js';
import type { ReadPathInput } from './read-path.js';
import type { Variant } from './rounds.js';
import type { RunningService } from './services.js';

const CURSOR_MODULE = new URL('../../apps/api/dist/pagination/cursor.js', import.meta.url);

export const deepKeys = {
  offset: (skipped: number) => `offset:${skipped}`,
  cursor: (skipped: number) => `cursor:${skipped}`,
} as const;

interface DeepPage {
  skipped: number;
  /** The id the page must start with. */
  firstId: number;
  /** `page=N`, and `cursor=...` (empty for the first page). */
  pageQuery: string;
  cursorQuery: string;
}

export interface DeepPagesPlan {
  input: ReadPathInput;
  authorId: number;
  pages: DeepPage[];
}

type EncodeCursor = (cursor: { position: number | null; reverse: boolean }) => string;

async function loadCursorEncoder(): Promise<EncodeCursor> {
  let module: { encodeCursor?: unknown };
  try {
    module = (await import(CURSOR_MODULE.href)) as { encodeCursor?: unknown };
  } catch (error) {
    throw new Error(`cannot load the API's cursor encoder from ${CURSOR_MODULE.pathname}: build the API first (npm run build)`, {
      cause: error,
    });
  }
  if (typeof module.encodeCursor !== 'function') {
    throw new Error(
      `${CURSOR_MODULE.pathname} exports no encodeCursor: the API changed how it encodes cursors; ` +
        'point bench/src/deep-pages.ts at the new encoder.',
    );
  }
  return module.encodeCursor as EncodeCursor;
}

/** Finds the rows each deep page starts at and builds its offset and cursor queries. */
export async function prepareDeepPages(input: ReadPathInput): Promise<DeepPagesPlan> {
  const largest = largestAuthor(input.plan);
  const author = input.bigAuthors.find((candidate) => candidate.label === largest.label)!;
  const encodeCursor = await loadCursorEncoder();
  const pool = createPool(input.environment.databaseUrl, { max: 1, applicationName: 'tally-bench' });
  pool.on('error', () => {});
  try {
    const pages: DeepPage[] = [];
    for (const skipped of input.plan.deepPageOffsets) {
      if (skipped % PAGE_SIZE !== 0 || skipped + PAGE_SIZE > author.books) {
        throw new Error(`deep page offset ${skipped} must be a multiple of ${PAGE_SIZE} inside the ${author.books} books of the largest author`);
      }
      const firstId = await bookIdAtOffset(pool, author.authorId, skipped);
      const before = skipped === 0 ? null : await bookIdAtOffset(pool, author.authorId, skipped - 1);
      if (firstId === undefined || before === undefined) throw new Error(`author ${author.authorId} has no book at offset ${skipped}`);
      pages.push({
        skipped,
        firstId,
        pageQuery: `page=${skipped / PAGE_SIZE + 1}`,
        cursorQuery: `cursor=${encodeCursor({ position: before, reverse: false })}`,
      });
    }
    return { input, authorId: author.authorId, pages };
  } finally {
    await pool.end();
  }
}

function expectFirstRow(url: string, page: DeepPage) {
  return (response: Response, body: unknown): void => {
    const results = (body as { results?: Array<{ id?: unknown }> }).results;
    const served = response.headers.get('x-count-source');
    if (!Array.isArray(results) || results[0]?.id !== page.firstId || results.length !== PAGE_SIZE || served !== 'redis') {
      throw new Error(
        `GET ${url} should start at book ${page.firstId} (${page.skipped} rows in), ${PAGE_SIZE} rows, count from redis; ` +
          `it answered ${JSON.stringify(body).slice(0, 200)} with X-Count-Source ${served ?? '(none)'}`,
      );
    }
  };
}

/** The six deep-page variants, against a running API whose counts come from Redis. */
export function deepPageVariants(plan: DeepPagesPlan, api: RunningService): Variant[] {
  const { input } = plan;
  const variant = (key: string, url: string, page: DeepPage): Variant => ({
    key,
    load: input.plan.deepLoad,
    check: () => probe(url, expectFirstRow(url, page)),
    measure: (length) => runHttpLoad({ url, connections: input.plan.connections, length, serverPid: api.pid }),
  });
  const base = `${api.baseUrl}/authors/${plan.authorId}/books`;
  return plan.pages.flatMap((page) => [
    variant(deepKeys.offset(page.skipped), `${base}?${page.pageQuery}`, page),
    variant(deepKeys.cursor(page.skipped), `${base}?${page.cursorQuery}`, page),
  ]);
}
