// How the suite turns runs into the figures it publishes: these rules decide what a reader of
// docs/benchmarks.md sees, so they are pinned here (no database or server needed).
import { describe, expect, it } from 'vitest';
import { parsePgbenchOutput } from '../src/pgbench.js';
import { median, medianRatio, percentile, rotate, summarizeLoad } from '../src/stats.js';

describe('benchmark figures', () => {
  it('a ratio is the median of per-round ratios, pairing variants measured in the same round', () => {
    // Per round: 3x, 20x (the slow variant hit a load spike), 2x.
    const fast = [300, 1000, 500];
    const slow = [100, 50, 250];
    expect(medianRatio(fast, slow)).toBe(3);
    // The ratio of the medians would pair figures from different rounds: 5x, which no round measured.
    expect(median(fast) / median(slow)).toBe(5);
  });

  it('percentiles are nearest-rank over every sample, so p99 of 100 samples is the 99th slowest', () => {
    const samples = Array.from({ length: 100 }, (_, index) => index + 1).reverse();
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile(samples, 100)).toBe(100);
    expect(percentile([], 50)).toBeNaN();
  });

  it('rotating the order gives every variant a round in which it runs first', () => {
    const variants = ['plain', 'seed', 'ours'];
    const firsts = [0, 1, 2].map((round) => rotate(variants, round)[0]);
    expect(firsts).toEqual(['plain', 'seed', 'ours']);
    expect(rotate(variants, 4)).toEqual(['seed', 'ours', 'plain']);
  });

  it('a summary reports medians over rounds and adds up every error', () => {
    const summary = summarizeLoad([
      { requestsPerSec: 100, p50Ms: 2, p99Ms: 9, samples: 300, errors: 0 },
      { requestsPerSec: 300, p50Ms: 1, p99Ms: 5, samples: 900, errors: 2 },
      { requestsPerSec: 200, p50Ms: 3, p99Ms: 7, samples: 600, errors: 1 },
    ]);
    expect(summary).toMatchObject({ requestsPerSec: 200, p50Ms: 2, p99Ms: 7, errors: 3, perRound: [100, 300, 200] });
  });

  it("reads pgbench 15's summary: transactions/s, latency and failures", () => {
    const output = [
      'pgbench (15.20 (Debian 15.20-0+deb12u1))',
      'transaction type: insert.sql',
      'scaling factor: 1',
      'query mode: simple',
      'number of clients: 8',
      'number of threads: 2',
      'maximum number of tries: 1',
      'duration: 4 s',
      'number of transactions actually processed: 35180',
      'number of failed transactions: 0 (0.000%)',
      'latency average = 0.909 ms',
      'initial connection time = 21.881 ms',
      'tps = 8795.123456 (without initial connection time)',
    ].join('\n');
    expect(parsePgbenchOutput(output)).toEqual({ transactionsPerSec: 8795.123456, latencyAverageMs: 0.909, transactions: 35180, failed: 0 });
    expect(() => parsePgbenchOutput('pgbench: error: connection to server failed')).toThrow(/printed no tps/);
  });
});
