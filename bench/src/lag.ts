// Commit-to-Redis lag under a steady write load, with the worker running.
//
// Writers insert one book per transaction into `book` at a fixed pace (writes are scheduled on a
// clock, not back to back, so a slow write does not lower the offered load). Inside each
// transaction the writer reads the author's new books_count_version; once COMMIT returns, the
// write is pending. A poller asks Redis (one pipelined HGET per pending author, about every
// millisecond) for the mirrored version; a write's lag is the time from its COMMIT returning to
// the first poll that shows a version at least as new. The poll period bounds the error (~1 ms).
import { performance } from 'node:perf_hooks';
import { pipelineByNode, type RedisClient, type RedisKeys } from '@tally/cache';
import { createBook, readColumnCount, withTransaction, type Pool } from '@tally/db';
import type { BenchPlan } from './plan.js';
import { LatencyRecorder, percentile } from './stats.js';

export interface LagResult {
  /** Writes per second actually committed (the offered pace is plan.lag.writesPerSec). */
  achievedWritesPerSec: number;
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Writes whose version Redis never showed within the wait: counted, never dropped silently. */
  unseen: number;
}

interface PendingWrite {
  authorId: number;
  version: number;
  committedAt: number;
}

const UNSEEN_AFTER_MS = 10_000;

export async function measureCommitToRedisLag(input: {
  plan: BenchPlan;
  pool: Pool;
  redis: RedisClient;
  keys: RedisKeys;
  writers: { firstAuthorId: number; authorCount: number };
}): Promise<LagResult> {
  const { writesPerSec, durationSec, writers } = input.plan.lag;
  const total = Math.max(1, Math.round(writesPerSec * durationSec));
  const intervalMs = 1000 / writesPerSec;
  const pending: PendingWrite[] = [];
  const lags = new LatencyRecorder();
  let next = 0;
  let committed = 0;
  let writing = true;
  let aborted = false;

  const started = performance.now();
  const writer = async () => {
    for (let slot = next++; slot < total && !aborted; slot = next++) {
      const due = started + slot * intervalMs;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const authorId = input.writers.firstAuthorId + Math.floor(Math.random() * input.writers.authorCount);
      const version = await withTransaction(input.pool, async (client) => {
        await createBook(client, { authorId, title: `Lag probe ${slot}` });
        return (await readColumnCount(client, authorId))!.version;
      });
      pending.push({ authorId, version, committedAt: performance.now() });
      committed += 1;
    }
  };

  const poller = async () => {
    while (!aborted && (writing || pending.length > 0)) {
      if (pending.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      const authors = [...new Set(pending.map((write) => write.authorId))];
      const replies = await pipelineByNode(
        input.redis,
        authors.map((authorId) => input.keys.author(authorId)),
        (pipeline, key) => pipeline.hget(key, 'version'),
      );
      const now = performance.now();
      const mirrored = new Map(authors.map((authorId, index) => [authorId, Number(replies[index]?.[1] ?? 0)]));
      for (let index = pending.length - 1; index >= 0; index -= 1) {
        const write = pending[index]!;
        if ((mirrored.get(write.authorId) ?? 0) >= write.version) {
          lags.record(now - write.committedAt);
          pending.splice(index, 1);
        } else if (!writing && now - write.committedAt > UNSEEN_AFTER_MS) {
          return;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };

  // A failure on either side stops both, then surfaces (no promise is left rejecting unobserved).
  let failure: unknown;
  const fail = (error: unknown) => {
    failure ??= error;
    aborted = true;
  };
  const polling = poller().catch(fail);
  await Promise.all(Array.from({ length: writers }, () => writer().catch(fail)));
  writing = false;
  const writeSeconds = (performance.now() - started) / 1000;
  await polling;
  if (aborted) throw new Error(`the lag measurement failed: ${String(failure)}`, { cause: failure });
  const samples = lags.samples();
  return {
    achievedWritesPerSec: committed / writeSeconds,
    samples: samples.length,
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    maxMs: percentile(samples, 100),
    unseen: pending.length,
  };
}
