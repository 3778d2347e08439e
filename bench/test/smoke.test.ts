// The benchmark suite with tiny sizes, end to end: real API and worker processes (built dist),
// autocannon, pgbench, PostgreSQL and Redis. It checks that every section runs and reports real
// numbers, so the suite cannot rot between full runs; it never judges speed.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WRITE_PATH_DESIGNS } from '@tally/db';
import { useTestDatabase, useTestRedis } from '@tally/test-support';
import { deepKeys } from '../src/deep-pages.js';
import { SMOKE_PLAN } from '../src/plan.js';
import { createProgress } from '../src/progress.js';
import { MEASURED_SOURCES, readKeys } from '../src/read-path.js';
import { runBenchmarks, type BenchOutcome } from '../src/run.js';
import { WRITER_SCENARIOS, writeKeys } from '../src/write-path.js';

const database = useTestDatabase();
const redis = useTestRedis();

describe('benchmark suite (smoke plan)', () => {
  let directory: string | undefined;
  afterAll(async () => {
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('runs every section and writes a report with a figure for every variant and target', { timeout: 180_000 }, async () => {
    directory = await mkdtemp(join(tmpdir(), 'tally-bench-smoke-'));
    const reportPath = join(directory, 'benchmarks.md');
    const lines: string[] = [];
    const outcome: BenchOutcome = await runBenchmarks({
      plan: SMOKE_PLAN,
      sections: ['read', 'write'],
      databaseUrl: database.url,
      recreateDatabase: false,
      redisUrl: redis.url,
      redisPrefix: redis.prefix,
      reportPath,
      command: 'vitest bench/test/smoke.test.ts',
      progress: createProgress((line) => lines.push(line)),
    });

    // Every read variant ran once per round, answered only 2xx, and has real latencies.
    const readKeysExpected = [
      readKeys.health,
      ...SMOKE_PLAN.bigAuthors.flatMap((author) => [
        ...MEASURED_SOURCES.map((source) => readKeys.page(source, author.label)),
        readKeys.sqlCount(author.label),
      ]),
      ...SMOKE_PLAN.deepPageOffsets.flatMap((skipped) => [deepKeys.offset(skipped), deepKeys.cursor(skipped)]),
    ];
    expect(outcome.read?.keys().sort()).toEqual([...readKeysExpected].sort());
    for (const key of readKeysExpected) {
      const figures = outcome.read!.get(key);
      expect(figures, key).toHaveLength(SMOKE_PLAN.rounds);
      for (const figure of figures) {
        expect(figure.errors, key).toBe(0);
        expect(figure.samples, key).toBeGreaterThan(0);
        expect(figure.requestsPerSec, key).toBeGreaterThan(0);
        expect(figure.p99Ms, key).toBeGreaterThanOrEqual(figure.p50Ms);
      }
    }

    // Every write design has a bulk time and a transaction rate for both writer scenarios.
    for (const design of WRITE_PATH_DESIGNS) {
      expect(outcome.bulk!.get(writeKeys.bulk(design))[0]).toBeGreaterThan(0);
      for (const scenario of WRITER_SCENARIOS) expect(outcome.writers!.get(writeKeys.writers(scenario, design))[0]).toBeGreaterThan(0);
    }
    // Every paced write was seen in Redis, so the worker relayed all of them.
    const writes = SMOKE_PLAN.lag.writesPerSec * SMOKE_PLAN.lag.durationSec;
    expect(outcome.lag).toMatchObject({ samples: writes, unseen: 0 });
    expect(outcome.lag!.p99Ms).toBeGreaterThanOrEqual(outcome.lag!.p50Ms);

    // The targets of issues 6 and 7, each with a measured number and a verdict.
    expect(outcome.targets.map((target) => target.issue)).toEqual([6, 6, 6, 6, 6, 6, 7, 7]);
    for (const target of outcome.targets) expect(Number.isFinite(target.value), target.description).toBe(true);

    // The report on disk is the one returned, with every section and no missing figure.
    const markdown = await readFile(reportPath, 'utf8');
    expect(markdown).toBe(outcome.markdown);
    for (const heading of [
      '## Targets',
      '## How it was measured',
      "## Read path: page 2 of an author's books with its count",
      '## HTTP ceiling',
      '## Deep pages',
      '### Bulk insert',
      'concurrent single-row writers (pgbench)',
      '### Commit-to-Redis lag',
    ]) {
      expect(markdown).toContain(heading);
    }
    expect(markdown).not.toMatch(/n\/a|NaN|undefined/);
    expect(markdown.match(/\| (MET|\*\*MISSED\*\*)/g)).toHaveLength(outcome.targets.length);
    expect(lines.some((line) => line.includes('report written'))).toBe(true);
  });
});
