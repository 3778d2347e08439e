// Concurrent single-row writers with pgbench, PostgreSQL's own load generator: native, multi-
// threaded, one transaction per INSERT (autocommit), no client library in the way.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgbenchRun {
  databaseUrl: string;
  script: string;
  clients: number;
  threads: number;
  /** Either a duration, or a number of transactions per client (the smoke run). */
  durationSec?: number;
  transactionsPerClient?: number;
}

export interface PgbenchResult {
  transactionsPerSec: number;
  latencyAverageMs: number;
  transactions: number;
  failed: number;
}

function field(output: string, pattern: RegExp, name: string): number {
  const match = pattern.exec(output);
  if (!match) throw new Error(`pgbench printed no ${name}; its output:\n${output}`);
  return Number(match[1]);
}

export function parsePgbenchOutput(output: string): PgbenchResult {
  // pgbench 15 prints failures; older versions abort on the first error instead.
  const failed = /^number of failed transactions: ([0-9]+)/m.exec(output);
  return {
    transactionsPerSec: field(output, /^tps = ([0-9.]+)/m, 'tps'),
    latencyAverageMs: field(output, /^latency average = ([0-9.]+) ms/m, 'latency average'),
    transactions: field(output, /^number of transactions actually processed: ([0-9]+)/m, 'transaction count'),
    failed: failed ? Number(failed[1]) : 0,
  };
}

export async function runPgbench(run: PgbenchRun): Promise<PgbenchResult> {
  const directory = await mkdtemp(join(tmpdir(), 'tally-bench-'));
  const scriptFile = join(directory, 'insert.sql');
  try {
    await writeFile(scriptFile, run.script);
    const length = run.durationSec !== undefined ? ['-T', String(run.durationSec)] : ['-t', String(run.transactionsPerClient ?? 100)];
    // -n: no VACUUM of pgbench's own tables, which this database does not have.
    const args = ['-n', '-c', String(run.clients), '-j', String(run.threads), ...length, '-f', scriptFile, run.databaseUrl];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn('pgbench', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      child.once('error', (error) =>
        reject(new Error(`cannot run pgbench (${error.message}): install it (Debian: the postgresql-15 package; elsewhere PostgreSQL's contrib or client tools) or put it on PATH`, { cause: error })),
      );
      child.once('close', (exitCode) => resolve({ code: exitCode, output: text }));
    });
    if (code !== 0) throw new Error(`pgbench exited with code ${code}:\n${output}`);
    return parsePgbenchOutput(output);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
