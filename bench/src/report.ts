// docs/benchmarks.md: the command, the machine, the targets with MET / MISSED, then one table per
// section. Every figure is the median over rounds; "per round" columns show the spread.
import { WRITE_PATH_DESIGNS, type WritePathDesign } from '@tally/db';
import { deepKeys } from './deep-pages.js';
import type { LagResult } from './lag.js';
import type { MachineInfo } from './machine.js';
import { largestAuthor, type BenchPlan, type Section } from './plan.js';
import { MEASURED_SOURCES, PAGE_NUMBER, readKeys } from './read-path.js';
import type { SeededBigAuthor } from './seed.js';
import { median, medianRatio, summarizeLoad, type LoadFigure, type LoadSummary, type Series } from './stats.js';
import type { TargetResult } from './targets.js';
import { WRITER_SCENARIOS, writeKeys } from './write-path.js';

export interface ReportInput {
  command: string;
  /** The benchmark database, and whether this run recreated it. */
  database: { name: string; recreated: boolean };
  startedAt: Date;
  durationSec: number;
  plan: BenchPlan;
  sections: readonly Section[];
  machine: MachineInfo;
  loadAverageAtEnd: number;
  bigAuthors: SeededBigAuthor[];
  writerAuthors: number;
  targets: TargetResult[];
  read?: Series<LoadFigure>;
  bulk?: Series<number>;
  writers?: Series<number>;
  lag?: LagResult;
}

const DESIGN_NAMES: Record<WritePathDesign, string> = {
  plain: 'plain (no trigger)',
  seed: 'seed design (row trigger)',
  ours: 'ours (statement triggers, outbox)',
};

const whole = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');
const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a');
const cores = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function loadCells(summary: LoadSummary): string[] {
  return [
    whole(summary.requestsPerSec),
    fixed(summary.p50Ms),
    fixed(summary.p99Ms),
    summary.perRound.map(whole).join(' / '),
    summary.errors > 0 ? `**${summary.errors}**` : '0',
  ];
}

function header(input: ReportInput): string {
  const { machine, plan } = input;
  const minutes = Math.floor(input.durationSec / 60);
  const busy = Math.max(machine.loadAverageAtStart, input.loadAverageAtEnd) > machine.cores * 0.5;
  const rows = [
    ['Command', `\`${input.command}\``],
    ['Date', `${input.startedAt.toISOString().replace('T', ' ').slice(0, 16)} UTC`],
    ['Run time', `${minutes} min ${Math.round(input.durationSec - minutes * 60)} s`],
    ['Plan', `${plan.name}: sections ${input.sections.join(', ')}; ${plan.rounds} alternating round${plan.rounds === 1 ? '' : 's'}`],
    ['Machine', `${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB.toFixed(1)} GiB RAM, ${machine.os}`],
    [
      'PostgreSQL',
      `${machine.postgres.version} (shared_buffers ${machine.postgres.sharedBuffers}, synchronous_commit ${machine.postgres.synchronousCommit}, max_connections ${machine.postgres.maxConnections})`,
    ],
    ['Redis', machine.redisVersion],
    ['Node.js', machine.node],
    ['Load average (1 min)', `${fixed(machine.loadAverageAtStart)} at start, ${fixed(input.loadAverageAtEnd)} at end`],
  ];
  const lines = [
    '# Benchmarks',
    '',
    'Latest output of the benchmark suite (`bench/`, issue 6). This file is written by every full run of',
    '`npm run bench`; change `bench/src/report.ts`, not this file.',
    '',
    table(['', ''], rows),
  ];
  if (busy) {
    lines.push(
      '',
      '> The machine was busy during this run (load average above half the cores): other work shared the CPUs, so',
      '> absolute figures are low and noisy. Ratios pair variants measured in the same round and hold up better.',
    );
  }
  return lines.join('\n');
}

function targetsSection(targets: TargetResult[]): string {
  const rows = targets.map((target) => [
    String(target.issue),
    target.description,
    target.measured,
    target.limit,
    target.met ? 'MET' : `**MISSED**${target.caveat ? ` (${target.caveat})` : ''}`,
  ]);
  return ['## Targets', '', table(['Issue', 'Target', 'Measured', 'Limit', 'Result'], rows)].join('\n');
}

function methodSection(input: ReportInput): string {
  const { plan } = input;
  const pgbenchLength = 'durationSec' in plan.pgbench ? `-T ${plan.pgbench.durationSec}` : `-t ${plan.pgbench.transactionsPerClient}`;
  return [
    '## How it was measured',
    '',
    `- **Data**: a database of its own (\`${input.database.name}\`${input.database.recreated ? ', dropped and recreated by the run' : ', fresh'}), ${plan.smallAuthors.toLocaleString('en-US')} small authors with 0-${plan.smallAuthorMaxBooks - 1} books each (COPY) and authors with ${plan.bigAuthors.map((author) => author.label).join(', ')} books (generated server-side with \`INSERT ... SELECT generate_series\`), then \`VACUUM ANALYZE\`. Each big author's books are inserted in one statement after the small authors', so their ids form one block at the end of the table, as after a bulk import of a prolific author.`,
    `- **Rounds**: every variant runs once per round, ${plan.rounds} round${plan.rounds === 1 ? '' : 's'}; the order of servers and of variants rotates each round. Figures are medians over rounds; a ratio is the median of the per-round ratios of two variants measured in the same round.`,
    `- **HTTP load**: autocannon in the bench process, ${plan.connections} connections, ${plan.load.measureSec} s per variant (deep pages ${plan.deepLoad.measureSec} s) after a warm-up of ${plan.load.warmupRequests} requests or ${plan.load.warmupMaxSec} s, whichever comes first (past PostgreSQL's custom-plan phase of prepared statements on every pooled connection), against the API started as its own process (\`node apps/api/dist/server.js\`, \`LOG_LEVEL=warn\`). Latency percentiles come from the exact time of every response. "x faster" and "time per request" compare requests/s at the same concurrency (the inverse ratio of mean latency).`,
    '- **Count sources**: `COUNT_SOURCES` is read at boot, so each source gets its own API process, started for its turn in each round and stopped after it (one server at a time). Each is restricted to one source (`redis`, `column` or `count`), so a fallback cannot pass for the measured path: it would answer 503 and show as errors. Before timing, one request checks the count, the rows and `X-Count-Source`.',
    '- **Redis counts during the read path**: the worker is not running; the bench mirrors the column into Redis with the relay\'s own version-guarded script and publishes the heartbeat (nothing writes books meanwhile, so the counts are exact). This keeps the worker\'s polling off the measured CPUs.',
    `- **Page requests**: \`GET /authors/:id/books?page=${PAGE_NUMBER}\` (default page size); deep pages: \`?page=N\` and \`?cursor=...\` of the largest author, the cursor encoded with the API's own encoder for the last row before the page.`,
    `- **Write path**: SQL through pgbench and the pg client, no HTTP. Three identical tables (same columns, checks, identity, primary key, \`(author_id, id)\` index and foreign key): \`bench.book_plain\` without triggers, \`bench.book_seed\` with the seed design's \`AFTER INSERT FOR EACH ROW\` trigger updating its own copy of \`author\`, and \`book\` with ours. The worker runs for the whole write path, as in production. Each run starts from an empty table and a drained outbox. Bulk: one \`INSERT ... SELECT\` of ${plan.bulkInsertRows.toLocaleString('en-US')} rows spread over ${input.writerAuthors.toLocaleString('en-US')} authors. Writers: \`pgbench -n -c ${plan.pgbench.clients} -j ${plan.pgbench.threads} ${pgbenchLength}\`, one single-row INSERT per transaction.`,
    `- **Lag**: ${plan.lag.writers} writers insert one book per transaction at a fixed pace of ${plan.lag.writesPerSec.toLocaleString('en-US')} writes/s for ${plan.lag.durationSec} s, each reading its author's new version before COMMIT; a poller reads the mirrored version from Redis about every millisecond. Lag = from COMMIT returning to the first poll showing that version or a newer one.`,
  ].join('\n');
}

function readSection(input: ReportInput, read: Series<LoadFigure>): string {
  const rows: string[][] = [];
  for (const author of input.bigAuthors) {
    for (const source of MEASURED_SOURCES) {
      const summary = summarizeLoad(read.get(readKeys.page(source, author.label)));
      const countsPerRequest = source === 'count' ? fixed(summary.countQueriesPerRequest, 3) : '';
      rows.push([author.label, `API, ${source}`, ...loadCells(summary), cores(summary.serverCpu), countsPerRequest]);
    }
    rows.push([author.label, 'SQL `COUNT(*)` alone', ...loadCells(summarizeLoad(read.get(readKeys.sqlCount(author.label)))), '', '1']);
  }
  const rps = (key: string) => read.get(key).map((figure) => figure.requestsPerSec);
  const ratios = input.bigAuthors.map((author) => [
    author.label,
    times(medianRatio(rps(readKeys.page('redis', author.label)), rps(readKeys.page('count', author.label)))),
    times(medianRatio(rps(readKeys.page('column', author.label)), rps(readKeys.page('redis', author.label)))),
    times(medianRatio(rps(readKeys.page('redis', author.label)), rps(readKeys.sqlCount(author.label)))),
  ]);
  return [
    `## Read path: page ${PAGE_NUMBER} of an author's books with its count`,
    '',
    table(['Author (books)', 'Served by', 'req/s', 'p50 ms', 'p99 ms', 'req/s per round', 'Errors', 'API CPU (cores)', 'COUNT(*) per request'], rows),
    '',
    'The API coalesces concurrent COUNT(*)s of one author and may reuse a result briefly; "COUNT(*) per request" is what it actually ran (from its `tally_api_count_queries_total` counter).',
    '',
    table(['Author (books)', 'Redis page vs COUNT page (x faster)', 'Redis page time / column page time', 'Redis page vs SQL COUNT(*) alone (x faster)'], ratios),
  ].join('\n');
}

function ceilingSection(input: ReportInput, read: Series<LoadFigure>): string {
  const label = largestAuthor(input.plan).label;
  const health = summarizeLoad(read.get(readKeys.health));
  const page = summarizeLoad(read.get(readKeys.page('redis', label)));
  const ratio = medianRatio(
    read.get(readKeys.page('redis', label)).map((figure) => figure.requestsPerSec),
    read.get(readKeys.health).map((figure) => figure.requestsPerSec),
  );
  const row = (name: string, summary: LoadSummary) => [name, ...loadCells(summary), cores(summary.serverCpu), cores(summary.loadGeneratorCpu)];
  return [
    '## HTTP ceiling: `/health` against a page with its count',
    '',
    table(
      ['Request', 'req/s', 'p50 ms', 'p99 ms', 'req/s per round', 'Errors', 'API CPU (cores)', 'Load generator CPU (cores)'],
      [row('`GET /health`', health), row(`page ${PAGE_NUMBER}, ${label}-book author, count from Redis`, page)],
    ),
    '',
    `Page requests/s are **${fixed(ratio * 100, 0)}%** of \`/health\`'s on the same server. The load generator shares the machine: when its CPU nears one core, \`/health\` measures autocannon as much as the API.`,
  ].join('\n');
}

function deepSection(input: ReportInput, read: Series<LoadFigure>): string {
  const label = largestAuthor(input.plan).label;
  const rps = (key: string) => read.get(key).map((figure) => figure.requestsPerSec);
  const rows = input.plan.deepPageOffsets.map((skipped) => {
    const offset = summarizeLoad(read.get(deepKeys.offset(skipped)));
    const cursor = summarizeLoad(read.get(deepKeys.cursor(skipped)));
    return [
      skipped === 0 ? '0 (first page)' : skipped.toLocaleString('en-US'),
      whole(offset.requestsPerSec),
      fixed(offset.p50Ms),
      fixed(offset.p99Ms),
      times(medianRatio(rps(deepKeys.offset(0)), rps(deepKeys.offset(skipped)))),
      whole(cursor.requestsPerSec),
      fixed(cursor.p50Ms),
      fixed(cursor.p99Ms),
      times(medianRatio(rps(deepKeys.cursor(0)), rps(deepKeys.cursor(skipped)))),
      String(offset.errors + cursor.errors),
    ];
  });
  return [
    `## Deep pages: the ${label}-book author, count from Redis`,
    '',
    table(
      ['Rows skipped', 'Offset req/s', 'p50 ms', 'p99 ms', 'Time vs first page', 'Cursor req/s', 'p50 ms', 'p99 ms', 'Time vs first page', 'Errors'],
      rows,
    ),
  ].join('\n');
}

function bulkSection(input: ReportInput, bulk: Series<number>): string {
  const plain = bulk.get(writeKeys.bulk('plain'));
  const rows = WRITE_PATH_DESIGNS.map((design) => {
    const runs = bulk.get(writeKeys.bulk(design));
    return [DESIGN_NAMES[design], whole(median(runs)), runs.map(whole).join(' / '), times(medianRatio(runs, plain))];
  });
  return [
    `### Bulk insert: one \`INSERT ... SELECT\` of ${input.plan.bulkInsertRows.toLocaleString('en-US')} rows`,
    '',
    table(['Table', 'ms (median)', 'ms per round', 'Time vs plain'], rows),
  ].join('\n');
}

function writersSection(input: ReportInput, writers: Series<number>): string {
  const runs = (scenario: (typeof WRITER_SCENARIOS)[number], design: WritePathDesign) => writers.get(writeKeys.writers(scenario, design));
  const rows = WRITER_SCENARIOS.map((scenario) => [
    scenario === 'spread' ? `${input.writerAuthors.toLocaleString('en-US')} authors` : 'one author',
    ...WRITE_PATH_DESIGNS.map((design) => `${whole(median(runs(scenario, design)))} (${runs(scenario, design).map(whole).join(' / ')})`),
    times(medianRatio(runs(scenario, 'ours'), runs(scenario, 'plain'))),
    times(medianRatio(runs(scenario, 'seed'), runs(scenario, 'plain'))),
    times(medianRatio(runs(scenario, 'ours'), runs(scenario, 'seed'))),
  ]);
  return [
    `### ${input.plan.pgbench.clients} concurrent single-row writers (pgbench), transactions/s`,
    '',
    table(
      ['Writers on', ...WRITE_PATH_DESIGNS.map((design) => `${DESIGN_NAMES[design]}: median (per round)`), 'ours / plain', 'seed / plain', 'ours / seed'],
      rows,
    ),
  ].join('\n');
}

function lagSection(input: ReportInput, lag: LagResult): string {
  return [
    '### Commit-to-Redis lag, worker running',
    '',
    table(
      ['Offered writes/s', 'Achieved writes/s', 'Samples', 'p50 ms', 'p99 ms', 'max ms', 'Never seen in Redis'],
      [[whole(input.plan.lag.writesPerSec), whole(lag.achievedWritesPerSec), whole(lag.samples), fixed(lag.p50Ms), fixed(lag.p99Ms), fixed(lag.maxMs), String(lag.unseen)]],
    ),
  ].join('\n');
}

function usageSection(): string {
  return [
    '## Running it',
    '',
    '- `npm run bench` builds the workspace and runs everything (6 to 9 minutes on 2 cores, depending on how busy they are), then rewrites this file. It needs PostgreSQL and Redis as for `npm test`, and `pgbench` on the PATH. It drops and recreates the database `tally_bench` and uses Redis keys under `tally-bench:` only (deleted before and after).',
    '- `npm run bench -- --sections write` (or `read`) runs one half; `--rounds N` changes the number of alternating rounds; `--out FILE` writes the report elsewhere. Partial runs write to a temporary file unless `--out` is given, so this file always holds a complete run.',
    '- `npm run bench -- --smoke` runs every section with tiny sizes in seconds; `bench/test/smoke.test.ts` runs it as part of `npm test` so the suite cannot rot. Smoke figures mean nothing.',
    '- `npm run bench -- --help` lists every option (database and Redis URLs, key prefix).',
  ].join('\n');
}

export function renderReport(input: ReportInput): string {
  const parts = [header(input), targetsSection(input.targets), methodSection(input)];
  if (input.read) {
    parts.push(readSection(input, input.read), ceilingSection(input, input.read));
    if (input.read.get(deepKeys.cursor(0)).length > 0) parts.push(deepSection(input, input.read));
  }
  if (input.bulk || input.writers || input.lag) parts.push('## Write path');
  if (input.bulk) parts.push(bulkSection(input, input.bulk));
  if (input.writers) parts.push(writersSection(input, input.writers));
  if (input.lag) parts.push(lagSection(input, input.lag));
  parts.push(usageSection());
  return `${parts.join('\n\n')}\n`;
}
