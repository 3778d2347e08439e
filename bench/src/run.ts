// One benchmark run, start to finish: database and data, the read path (worker stopped, counts
// mirrored by the bench), the write path (worker running), then the report. Whatever fails, the
// child processes, pools, connections and the bench's Redis keys are released.
import { writeFile } from 'node:fs/promises';
import { createRedis, heartbeatTtlMs, redisKeys } from '@tally/cache';
import { createPool } from '@tally/db';
import { measureCommitToRedisLag, type LagResult } from './lag.js';
import { currentLoadAverage, describeMachine } from './machine.js';
import type { BenchPlan, Section } from './plan.js';
import { createProgress, type Progress } from './progress.js';
import { runReadPath } from './read-path.js';
import { deleteBenchKeys, mirrorColumnCounts, publishBenchHeartbeat, withdrawBenchHeartbeat } from './redis-state.js';
import { renderReport } from './report.js';
import { prepareDatabase, seedBenchData } from './seed.js';
import { startWorker, type RunningService, type ServiceEnvironment } from './services.js';
import type { LoadFigure, Series } from './stats.js';
import { evaluateTargets, type TargetResult } from './targets.js';
import { prepareWritePath, runBulkInserts, runConcurrentWriters, waitForDrainedOutbox } from './write-path.js';

export interface BenchOptions {
  plan: BenchPlan;
  sections: readonly Section[];
  databaseUrl: string;
  /** Drop and recreate the database first (the CLI); false when given a fresh migrated one (tests). */
  recreateDatabase: boolean;
  redisUrl: string;
  redisPrefix: string;
  /** Where the markdown report goes; not written when undefined. */
  reportPath?: string;
  /** The command shown in the report. */
  command: string;
  progress?: Progress;
}

export interface BenchOutcome {
  markdown: string;
  targets: TargetResult[];
  read?: Series<LoadFigure>;
  bulk?: Series<number>;
  writers?: Series<number>;
  lag?: LagResult;
}

// Long enough for the whole read section; withdrawn as soon as it ends.
const READ_HEARTBEAT_TTL_MS = 60 * 60 * 1000;
const WORKER_CATCH_UP_TIMEOUT_MS = 60_000;

async function waitForWorkerCaughtUp(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WORKER_CATCH_UP_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`the worker did not publish its heartbeat within ${WORKER_CATCH_UP_TIMEOUT_MS / 1000} s: see its health endpoint and logs`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function runBenchmarks(options: BenchOptions): Promise<BenchOutcome> {
  const progress = options.progress ?? createProgress();
  const { plan } = options;
  const startedAt = new Date();
  const environment: ServiceEnvironment = { databaseUrl: options.databaseUrl, redisUrl: options.redisUrl, redisPrefix: options.redisPrefix };
  const keys = redisKeys(options.redisPrefix);

  await prepareDatabase(options.databaseUrl, options.recreateDatabase, progress);
  const pool = createPool(options.databaseUrl, { max: Math.max(4, plan.lag.writers + 1), applicationName: 'tally-bench' });
  pool.on('error', (error) => progress.step(`PostgreSQL pool error: ${error.message}`));
  const redis = createRedis(options.redisUrl, 'tool', { connectionName: 'tally-bench', onError: () => {} });
  let worker: RunningService | undefined;
  try {
    await deleteBenchKeys(redis, keys);
    const machine = await describeMachine(pool, redis);
    progress.step(`machine: ${machine.cores} cores, PostgreSQL ${machine.postgres.version}, Redis ${machine.redisVersion}, Node ${machine.node}`);
    const seeded = await seedBenchData(pool, plan, progress, options.sections.includes('read'));
    const outcome: Omit<BenchOutcome, 'markdown' | 'targets'> = {};

    if (options.sections.includes('read')) {
      const mirrored = await mirrorColumnCounts(pool, redis, keys);
      await publishBenchHeartbeat(redis, keys, READ_HEARTBEAT_TTL_MS);
      progress.step(`read path: ${mirrored} counts mirrored into Redis by the bench, heartbeat published (worker not running)`);
      try {
        outcome.read = await runReadPath({ plan, environment, bigAuthors: seeded.bigAuthors, progress }, { deep: true });
      } finally {
        await withdrawBenchHeartbeat(redis, keys);
      }
    }

    if (options.sections.includes('write')) {
      await prepareWritePath(pool);
      worker = await startWorker(environment);
      await waitForWorkerCaughtUp(async () => (await heartbeatTtlMs(redis, keys)) > 0);
      await waitForDrainedOutbox(pool);
      progress.step('write path: peer tables created, worker running and caught up');
      const input = { plan, pool, databaseUrl: options.databaseUrl, writers: seeded.smallAuthors, progress };
      outcome.bulk = await runBulkInserts(input);
      outcome.writers = await runConcurrentWriters(input);
      await waitForDrainedOutbox(pool);
      progress.step(`lag: ${plan.lag.writesPerSec} writes/s for ${plan.lag.durationSec} s`);
      outcome.lag = await measureCommitToRedisLag({ plan, pool, redis, keys, writers: seeded.smallAuthors });
      progress.step(`lag: p50 ${outcome.lag.p50Ms.toFixed(1)} ms, p99 ${outcome.lag.p99Ms.toFixed(1)} ms over ${outcome.lag.samples} writes`);
      await worker.stop();
      worker = undefined;
    }

    const targets = evaluateTargets({ plan, ...outcome });
    const markdown = renderReport({
      command: options.command,
      database: { name: decodeURIComponent(new URL(options.databaseUrl).pathname.slice(1)), recreated: options.recreateDatabase },
      startedAt,
      durationSec: progress.elapsedSec(),
      plan,
      sections: options.sections,
      machine,
      loadAverageAtEnd: currentLoadAverage(),
      bigAuthors: seeded.bigAuthors,
      writerAuthors: seeded.smallAuthors.authorCount,
      targets,
      ...outcome,
    });
    if (options.reportPath) {
      await writeFile(options.reportPath, markdown);
      progress.step(`report written to ${options.reportPath}`);
    }
    for (const target of targets) progress.step(`${target.met ? 'MET   ' : 'MISSED'} ${target.description}: ${target.measured} (${target.limit})`);
    return { markdown, targets, ...outcome };
  } finally {
    await worker?.stop();
    await deleteBenchKeys(redis, keys).catch(() => {});
    redis.disconnect();
    await pool.end();
  }
}
