// SQL load at a fixed concurrency: `connections` loops, each running one query after another for a
// fixed time. The caller's query uses the project's own client (@tally/db) and a pool that large.
import { performance } from 'node:perf_hooks';
import type { LoadLength } from './plan.js';
import { LatencyRecorder, percentile, type LoadFigure } from './stats.js';

export async function runSqlLoad(
  options: { connections: number; length: LoadLength },
  query: () => Promise<unknown>,
): Promise<LoadFigure> {
  const latencies = new LatencyRecorder();
  const started = performance.now();
  const deadline = started + options.length.durationSec * 1000;
  let remaining = options.length.maxRequests ?? Infinity;
  let errors = 0;
  let firstError: unknown;
  const loop = async () => {
    while (performance.now() < deadline && remaining > 0) {
      remaining -= 1;
      const sent = performance.now();
      try {
        await query();
        latencies.record(performance.now() - sent);
      } catch (error) {
        errors += 1;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, loop));
  const elapsedSec = (performance.now() - started) / 1000;
  if (latencies.count === 0 && firstError !== undefined) {
    throw new Error(`every query of the SQL load failed: ${String(firstError)}`, { cause: firstError });
  }
  const samples = latencies.samples();
  return {
    requestsPerSec: samples.length / elapsedSec,
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    samples: samples.length,
    errors,
  };
}
