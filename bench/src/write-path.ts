// Write path, in SQL (no HTTP), on three identical tables: bench.book_plain (no trigger),
// bench.book_seed (the seed design's row-level trigger) and book (ours). The worker runs
// throughout, as in production, so ours pays for the relay draining its outbox too.
//
// Every run starts from an empty table (TRUNCATE, untimed) and an empty outbox (the worker has
// drained it), and the designs alternate in an order rotated per round.
import {
  WRITE_PATH_DESIGNS,
  bulkInsertBooks,
  createWritePathPeers,
  emptyWritePathTable,
  pgbenchInsertScript,
  readOutboxBacklog,
  vacuumAnalyze,
  type Pool,
  type WritePathDesign,
} from '@tally/db';
import { runPgbench } from './pgbench.js';
import type { BenchPlan } from './plan.js';
import { timed, type Progress } from './progress.js';
import { Series, rotate } from './stats.js';

export type WriterScenario = 'spread' | 'hot';
export const WRITER_SCENARIOS: readonly WriterScenario[] = ['spread', 'hot'];

export const writeKeys = {
  bulk: (design: WritePathDesign) => `bulk:${design}`,
  writers: (scenario: WriterScenario, design: WritePathDesign) => `writers:${scenario}:${design}`,
} as const;

export interface WritePathInput {
  plan: BenchPlan;
  pool: Pool;
  databaseUrl: string;
  writers: { firstAuthorId: number; authorCount: number };
  progress: Progress;
}

const SETTLE_TIMEOUT_MS = 60_000;

/** Waits until the worker has drained the outbox, so one run's relay work does not bill the next. */
export async function waitForDrainedOutbox(pool: Pool): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const backlog = await readOutboxBacklog(pool);
    if (backlog.pending === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the worker left ${backlog.pending} outbox rows (oldest ${Math.round(backlog.oldestAgeMs)} ms) after ${SETTLE_TIMEOUT_MS / 1000} s: ` +
          'is it running and relaying? See its health endpoint.',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function resetTable(input: WritePathInput, design: WritePathDesign): Promise<void> {
  await emptyWritePathTable(input.pool, design);
  await waitForDrainedOutbox(input.pool);
}

export async function prepareWritePath(pool: Pool): Promise<void> {
  await createWritePathPeers(pool);
  await vacuumAnalyze(pool, WRITE_PATH_DESIGNS);
}

/** The timed INSERT ... SELECT of plan.bulkInsertRows rows, spread over the writers' authors: milliseconds. */
export async function runBulkInserts(input: WritePathInput): Promise<Series<number>> {
  const series = new Series<number>();
  const { plan, progress } = input;
  for (let round = 0; round < plan.rounds; round += 1) {
    for (const design of rotate(WRITE_PATH_DESIGNS, round)) {
      await resetTable(input, design);
      const { result: rows, ms } = await timed(() => bulkInsertBooks(input.pool, design, { rows: plan.bulkInsertRows, ...input.writers }));
      if (rows !== plan.bulkInsertRows) throw new Error(`the bulk insert into ${design} wrote ${rows} rows, expected ${plan.bulkInsertRows}`);
      series.add(writeKeys.bulk(design), ms);
      progress.step(`round ${round + 1}/${plan.rounds}: bulk insert of ${rows.toLocaleString('en-US')} rows into ${design}: ${ms.toFixed(0)} ms`);
    }
  }
  return series;
}

/** pgbench's single-row writers on many authors (spread) and on one (hot): transactions/s. */
export async function runConcurrentWriters(input: WritePathInput): Promise<Series<number>> {
  const series = new Series<number>();
  const { plan, progress } = input;
  const authorsOf = (scenario: WriterScenario) =>
    scenario === 'spread' ? input.writers : { firstAuthorId: input.writers.firstAuthorId, authorCount: 1 };
  for (let round = 0; round < plan.rounds; round += 1) {
    for (const scenario of WRITER_SCENARIOS) {
      for (const design of rotate(WRITE_PATH_DESIGNS, round)) {
        await resetTable(input, design);
        const result = await runPgbench({
          databaseUrl: input.databaseUrl,
          script: pgbenchInsertScript(design, authorsOf(scenario)),
          ...plan.pgbench,
        });
        if (result.failed > 0) throw new Error(`pgbench: ${result.failed} of the ${scenario} writes into ${design} failed`);
        series.add(writeKeys.writers(scenario, design), result.transactionsPerSec);
        progress.step(
          `round ${round + 1}/${plan.rounds}: ${plan.pgbench.clients} writers, ${scenario === 'spread' ? `${input.writers.authorCount} authors` : 'one author'}, ` +
            `${design}: ${result.transactionsPerSec.toFixed(0)} tx/s (latency ${result.latencyAverageMs.toFixed(2)} ms)`,
        );
      }
    }
  }
  return series;
}
