// The targets of issues 6 (read path, bulk insert, lag) and 7 (concurrent writers), evaluated on
// one run's figures. "Faster" compares requests/s at the same fixed concurrency, which for a
// closed-loop load generator is the inverse ratio of mean latency (Little's law), over every
// request rather than one percentile.
import type { WritePathDesign } from '@tally/db';
import { deepKeys } from './deep-pages.js';
import type { LagResult } from './lag.js';
import { largestAuthor, type BenchPlan } from './plan.js';
import { readKeys } from './read-path.js';
import { medianRatio, type LoadFigure, type Series } from './stats.js';
import { writeKeys, type WriterScenario } from './write-path.js';

export interface TargetResult {
  issue: 6 | 7;
  description: string;
  /** The measured figure, formatted, and the limit it is held to. */
  measured: string;
  limit: string;
  value: number;
  met: boolean;
  /** Why the figure cannot be trusted (errors during its run), if it cannot. */
  caveat?: string;
}

export interface TargetInput {
  plan: BenchPlan;
  read?: Series<LoadFigure>;
  bulk?: Series<number>;
  writers?: Series<number>;
  lag?: LagResult;
}

const rps = (series: Series<LoadFigure>, key: string) => series.get(key).map((figure) => figure.requestsPerSec);
const errorsIn = (series: Series<LoadFigure>, ...keys: string[]) =>
  keys.reduce((sum, key) => sum + series.get(key).reduce((inner, figure) => inner + figure.errors, 0), 0);

function target(
  issue: 6 | 7,
  description: string,
  value: number,
  rule: { atLeast: number } | { atMost: number },
  format: (value: number) => string,
  caveat?: string,
): TargetResult {
  const met = Number.isFinite(value) && ('atLeast' in rule ? value >= rule.atLeast : value <= rule.atMost) && caveat === undefined;
  const limit = 'atLeast' in rule ? `≥ ${format(rule.atLeast)}` : `≤ ${format(rule.atMost)}`;
  return { issue, description, measured: format(value), limit, value, met, ...(caveat ? { caveat } : {}) };
}

const times = (value: number) => `${value.toFixed(2)}x`;
const percent = (value: number) => `${(value * 100).toFixed(0)}%`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

function readTargets(plan: BenchPlan, read: Series<LoadFigure>): TargetResult[] {
  const label = largestAuthor(plan).label;
  const redis = readKeys.page('redis', label);
  const column = readKeys.page('column', label);
  const count = readKeys.page('count', label);
  const caveat = (...keys: string[]) => (errorsIn(read, ...keys) > 0 ? 'errors during the run' : undefined);
  const results = [
    target(6, `Page with count, ${label}-book author: Redis at least 50x faster than COUNT`, medianRatio(rps(read, redis), rps(read, count)), { atLeast: 50 }, times, caveat(redis, count)),
    target(6, `Page with count, ${label}-book author: Redis within 1.2x of the column (time per request)`, medianRatio(rps(read, column), rps(read, redis)), { atMost: 1.2 }, times, caveat(redis, column)),
    target(6, `Page requests/s (${label}-book author, Redis, ${plan.connections} connections) / /health requests/s`, medianRatio(rps(read, redis), rps(read, readKeys.health)), { atLeast: 0.6 }, percent, caveat(redis, readKeys.health)),
  ];
  const deepest = Math.max(...plan.deepPageOffsets);
  if (read.get(deepKeys.cursor(0)).length > 0) {
    results.push(
      target(6, `Cursor page ${deepest.toLocaleString('en-US')} rows deep within 1.5x of the first page (time per request)`, medianRatio(rps(read, deepKeys.cursor(0)), rps(read, deepKeys.cursor(deepest))), { atMost: 1.5 }, times, caveat(deepKeys.cursor(0), deepKeys.cursor(deepest))),
    );
  }
  return results;
}

function writerRatio(writers: Series<number>, scenario: WriterScenario, design: WritePathDesign, reference: WritePathDesign): number {
  return medianRatio(writers.get(writeKeys.writers(scenario, design)), writers.get(writeKeys.writers(scenario, reference)));
}

export function evaluateTargets(input: TargetInput): TargetResult[] {
  const results: TargetResult[] = [];
  if (input.read) results.push(...readTargets(input.plan, input.read));
  if (input.bulk) {
    const ratio = medianRatio(input.bulk.get(writeKeys.bulk('ours')), input.bulk.get(writeKeys.bulk('plain')));
    results.push(target(6, `Bulk INSERT ... SELECT of ${input.plan.bulkInsertRows.toLocaleString('en-US')} rows: ours / plain table time`, ratio, { atMost: 1.3 }, times));
  }
  if (input.lag) {
    const offered = input.plan.lag.writesPerSec;
    const caveat =
      input.lag.unseen > 0
        ? `${input.lag.unseen} writes never reached Redis within 10 s`
        : input.lag.achievedWritesPerSec < offered * 0.9
          ? `the writers reached only ${Math.round(input.lag.achievedWritesPerSec)} writes/s`
          : undefined;
    results.push(target(6, `Commit-to-Redis lag p99 at ${input.plan.lag.writesPerSec.toLocaleString('en-US')} writes/s`, input.lag.p99Ms, { atMost: 100 }, ms, caveat));
  }
  if (input.writers) {
    const clients = input.plan.pgbench.clients;
    results.push(
      target(7, `${clients} writers on many authors: ours / plain transactions/s`, writerRatio(input.writers, 'spread', 'ours', 'plain'), { atLeast: 0.7 }, times),
      target(7, `${clients} writers on one author: ours / seed design transactions/s`, writerRatio(input.writers, 'hot', 'ours', 'seed'), { atLeast: 1 }, times),
    );
  }
  return results;
}
