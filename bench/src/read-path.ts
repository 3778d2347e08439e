// Read path: page 2 of an author's books (GET /authors/:id/books?page=2) with its count from Redis,
// from the column and from COUNT(*), for each big author; SQL COUNT(*) alone through the project's
// pg client; and /health on the same server as the Redis pages, the ceiling of the HTTP stack.
//
// COUNT_SOURCES is read at boot, so each source has its own API process. They run one at a time:
// each round starts the API of one source, measures its variants, stops it, then the next (order
// rotated per round). One server at a time keeps the other two from holding pool connections and
// memory on a shared 2-core machine; a restart costs a few seconds per round and source.
import type { CountSource } from '@tally/config';
import { countBooks, createPool } from '@tally/db';
import { readAuthorCountQueries } from './api-metrics.js';
import { deepPageVariants, prepareDeepPages } from './deep-pages.js';
import { probe, runHttpLoad } from './http-load.js';
import { PAGE_SIZE, type BenchPlan } from './plan.js';
import type { Progress } from './progress.js';
import { runRounds, type Variant, type VariantGroup } from './rounds.js';
import type { SeededBigAuthor } from './seed.js';
import { runSqlLoad } from './sql-load.js';
import { startApi, type RunningService, type ServiceEnvironment } from './services.js';
import { Series, type LoadFigure } from './stats.js';

/** Every source is measured alone: a fallback would silently measure another path (it answers 503 instead). */
export const MEASURED_SOURCES: readonly CountSource[] = ['redis', 'column', 'count'];
export const PAGE_NUMBER = 2;

export const readKeys = {
  page: (source: CountSource, label: string) => `page:${source}:${label}`,
  sqlCount: (label: string) => `sql-count:${label}`,
  health: 'health',
} as const;

export interface ReadPathInput {
  plan: BenchPlan;
  environment: ServiceEnvironment;
  bigAuthors: SeededBigAuthor[];
  progress: Progress;
}

function pageUrl(api: RunningService, authorId: number): string {
  return `${api.baseUrl}/authors/${authorId}/books?page=${PAGE_NUMBER}`;
}

function expectPage(url: string, source: CountSource, author: SeededBigAuthor) {
  return (response: Response, body: unknown): void => {
    const served = response.headers.get('x-count-source');
    const page = body as { count?: unknown; results?: unknown };
    const rows = Array.isArray(page.results) ? page.results.length : -1;
    const expectedRows = Math.max(0, Math.min(PAGE_SIZE, author.books - PAGE_SIZE));
    if (served !== source || page.count !== author.books || rows !== expectedRows) {
      throw new Error(
        `GET ${url} should serve count ${author.books} from ${source} with ${expectedRows} rows; it served count ` +
          `${String(page.count)} from ${served ?? '(no X-Count-Source header)'} with ${rows} rows.`,
      );
    }
  };
}

function httpVariant(
  key: string,
  url: string,
  api: RunningService,
  plan: BenchPlan,
  check: () => Promise<void>,
  options: { trackCountQueries?: boolean } = {},
): Variant {
  return {
    key,
    load: plan.load,
    check,
    async measure(length) {
      const before = options.trackCountQueries ? await readAuthorCountQueries(api.baseUrl) : undefined;
      const figure = await runHttpLoad({ url, connections: plan.connections, length, serverPid: api.pid });
      const after = before === undefined ? undefined : await readAuthorCountQueries(api.baseUrl);
      if (before === undefined || after === undefined) return figure;
      return { ...figure, countQueriesPerRequest: (after - before) / Math.max(1, figure.samples) };
    },
  };
}

/** Waits until the API serves Redis counts (it polls the heartbeat in the background). */
async function waitForFreshCounts(api: RunningService): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await fetch(`${api.baseUrl}/ready`, { signal: AbortSignal.timeout(2000) });
    const body = (await response.json()) as { redis_counts?: unknown };
    if (body.redis_counts === 'fresh') return;
    if (Date.now() > deadline) {
      throw new Error(`the API at ${api.baseUrl} does not see the heartbeat the bench published (/ready: ${JSON.stringify(body)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function apiGroup(input: ReadPathInput, source: CountSource, extra: (api: RunningService) => Variant[]): VariantGroup {
  return {
    name: `API with COUNT_SOURCES=${source}`,
    async open() {
      const api = await startApi(input.environment, [source]);
      try {
        if (source === 'redis') await waitForFreshCounts(api);
      } catch (error) {
        await api.stop();
        throw error;
      }
      const pages = input.bigAuthors.map((author) => {
        const url = pageUrl(api, author.authorId);
        return httpVariant(readKeys.page(source, author.label), url, api, input.plan, () => probe(url, expectPage(url, source, author)), {
          trackCountQueries: source === 'count',
        });
      });
      return { variants: [...extra(api), ...pages], close: () => api.stop() };
    },
  };
}

function healthVariant(api: RunningService, plan: BenchPlan): Variant {
  const url = `${api.baseUrl}/health`;
  return httpVariant(readKeys.health, url, api, plan, () =>
    probe(url, (_response, body) => {
      if ((body as { status?: unknown }).status !== 'ok') throw new Error(`GET ${url} answered ${JSON.stringify(body)}`);
    }),
  );
}

function sqlCountGroup(input: ReadPathInput): VariantGroup {
  return {
    name: 'SQL COUNT(*) alone (pg client, no HTTP)',
    async open() {
      const pool = createPool(input.environment.databaseUrl, { max: input.plan.connections, applicationName: 'tally-bench-count' });
      pool.on('error', () => {});
      const variants = input.bigAuthors.map(
        (author): Variant => ({
          key: readKeys.sqlCount(author.label),
          load: input.plan.load,
          async check() {
            const counted = await countBooks(pool, author.authorId);
            if (counted !== author.books) throw new Error(`COUNT(*) of author ${author.authorId} is ${counted}, expected ${author.books}`);
          },
          measure: (length) => runSqlLoad({ connections: input.plan.connections, length }, () => countBooks(pool, author.authorId)),
        }),
      );
      return { variants, close: () => pool.end() };
    },
  };
}

/** Runs every read variant for plan.rounds rounds; `deep` adds the deep pages to the Redis server. */
export async function runReadPath(input: ReadPathInput, options: { deep: boolean }): Promise<Series<LoadFigure>> {
  const series = new Series<LoadFigure>();
  const deep = options.deep ? await prepareDeepPages(input) : undefined;
  const groups: VariantGroup[] = MEASURED_SOURCES.map((source) =>
    apiGroup(input, source, (api) => (source === 'redis' ? [healthVariant(api, input.plan), ...(deep ? deepPageVariants(deep, api) : [])] : [])),
  );
  groups.push(sqlCountGroup(input));
  await runRounds(groups, input.plan.rounds, series, input.progress);
  return series;
}
