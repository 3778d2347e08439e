// `npm run bench` (= npm run build && node bench/dist/main.js): the benchmark suite. A full run
// writes docs/benchmarks.md; `--smoke` runs every section with tiny sizes in seconds.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FULL_PLAN, SECTIONS, SMOKE_PLAN, type BenchPlan, type Section } from './plan.js';
import { runBenchmarks } from './run.js';

export { runBenchmarks, type BenchOptions, type BenchOutcome } from './run.js';
export { FULL_PLAN, SMOKE_PLAN, type BenchPlan } from './plan.js';

const DEFAULT_REPORT = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

const USAGE = `Usage: npm run bench [-- options]

  --smoke                 tiny sizes, every section, seconds (report to a temporary file)
  --sections read,write   run only these sections (default: all)
  --rounds N              alternating rounds (default: ${FULL_PLAN.rounds})
  --out FILE              where to write the report (default: docs/benchmarks.md for a full run
                          of every section, a temporary file otherwise)
  --database-url URL      benchmark database, dropped and recreated (default:
                          postgres://postgres@127.0.0.1:5432/tally_bench; the name must start with tally_bench)
  --redis-url URL         default: redis://127.0.0.1:6379/0
  --redis-prefix PREFIX   key prefix of the bench, deleted before and after (default: tally-bench:)
  --help`;

class UsageError extends Error {}

function parseSections(text: string | undefined): Section[] {
  if (text === undefined) return [...SECTIONS];
  const sections = text.split(',').map((part) => part.trim());
  for (const section of sections) {
    if (!(SECTIONS as readonly string[]).includes(section)) throw new UsageError(`unknown section "${section}": expected ${SECTIONS.join(', ')}`);
  }
  return sections as Section[];
}

function parseRounds(text: string | undefined, plan: BenchPlan): number {
  if (text === undefined) return plan.rounds;
  const rounds = Number(text);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new UsageError(`--rounds must be an integer from 1 to 20, got "${text}"`);
  return rounds;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      sections: { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
      'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/tally_bench' },
      'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379/0' },
      'redis-prefix': { type: 'string', default: 'tally-bench:' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const basePlan = values.smoke ? SMOKE_PLAN : FULL_PLAN;
  const plan = { ...basePlan, rounds: parseRounds(values.rounds, basePlan) };
  const sections = parseSections(values.sections);
  const complete = !values.smoke && sections.length === SECTIONS.length;
  const reportPath = values.out ?? (complete ? DEFAULT_REPORT : join(tmpdir(), `tally-bench-${plan.name}-${sections.join('-')}.md`));
  const invokedByNpm = process.env.npm_lifecycle_event === 'bench';
  const args = process.argv.slice(2).join(' ');
  const command = invokedByNpm ? `npm run bench${args ? ` -- ${args}` : ''}` : `node bench/dist/main.js${args ? ` ${args}` : ''}`;

  const outcome = await runBenchmarks({
    plan,
    sections,
    databaseUrl: values['database-url'],
    recreateDatabase: true,
    redisUrl: values['redis-url'],
    redisPrefix: values['redis-prefix'],
    reportPath,
    command,
  });
  const missed = outcome.targets.filter((target) => !target.met).length;
  console.log(`\n${outcome.targets.length - missed} of ${outcome.targets.length} targets met; report: ${reportPath}`);
  return 0;
}

// Run only as the entry point: tests import runBenchmarks from this module too.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // Exiting runs services.ts's exit hook, which kills the API and worker children.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${signal}: stopping the benchmark and its servers`);
      process.exit(130);
    });
  }
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
        console.error(`${error.message}\n\n${USAGE}`);
        process.exit(2);
      }
      console.error('The benchmark failed:', error);
      process.exit(1);
    },
  );
}
