// The `tally` command line: commands, options and their documentation. Each action opens what it
// needs through a CliContext and closes it before the process exits.
import { Command, Option } from 'commander';
import { CliContext } from './context.js';
import { ExitCode } from './errors.js';
import { authorIdArgument, integerIn } from './arguments.js';
import { DISTRIBUTIONS, type Distribution } from './seed-plan.js';
import { runMigrate } from './commands/migrate.js';
import { runSeed } from './commands/seed.js';
import { runInspect } from './commands/counts-inspect.js';
import { runVerify } from './commands/counts-verify.js';
import { runBackfillCommand } from './commands/counts-backfill.js';
import { runRebuildCache } from './commands/counts-rebuild-cache.js';
import { runOutboxStatus } from './commands/outbox-status.js';

export interface ProgramState {
  exitCode: ExitCode;
}

type Action = (context: CliContext, command: Command) => Promise<ExitCode | void>;

export function buildProgram(): { program: Command; state: ProgramState } {
  const state: ProgramState = { exitCode: ExitCode.ok };
  const program = new Command('tally')
    .description('Operate tally: migrate, seed, inspect, verify and repair counts, watch the outbox.')
    .option('--json', 'print one JSON document on stdout (progress and notes go to stderr)')
    .addHelpText(
      'after',
      '\nConfiguration comes from the environment (DATABASE_URL, REDIS_URL, REDIS_PREFIX, ...).\n' +
        'Exit codes: 0 ok, 1 failure, 2 bad arguments, 3 drift found (counts verify).',
    )
    // Settings below are copied into every subcommand created after them.
    .exitOverride()
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true });

  // Commander calls an action with the parsed arguments, the options, then the command itself.
  const run = (action: Action) => async (...args: unknown[]): Promise<void> => {
      const command = args.at(-1) as Command;
      const context = CliContext.fromEnvironment({ json: command.optsWithGlobals<{ json?: boolean }>().json === true });
      try {
        state.exitCode = (await action(context, command)) ?? ExitCode.ok;
      } finally {
        await context.close();
      }
    };

  program
    .command('migrate')
    .description('create the database when it is missing and apply pending migrations')
    .action(run(async (context) => void (await runMigrate(context))));

  program
    .command('seed')
    .description('bulk-load authors and books with COPY (one transaction)')
    .option('--authors <n>', 'authors to create', integerIn(1, 10_000_000), 1000)
    .option('--books <n>', 'books to create, spread over the new authors', integerIn(0, 1_000_000_000), 1_000_000)
    .addOption(new Option('--distribution <kind>', 'how books spread over authors').choices(DISTRIBUTIONS).default('uniform'))
    .option('--null-counts', 'leave the new authors\' counts NULL (not computed), like data older than the counter')
    .action(
      run(async (context, command) => {
        const options = command.opts<{ authors: number; books: number; distribution: Distribution; nullCounts?: boolean }>();
        await runSeed(context, { ...options, nullCounts: options.nullCounts === true });
      }),
    );

  const counts = program.command('counts').description('inspect, verify, backfill and re-mirror counts');

  counts
    .command('inspect')
    .description('one author\'s count in Redis, in the column and by COUNT(*), and whether they agree')
    .argument('<author>', 'author id', authorIdArgument)
    .action(
      run(async (context, command) => {
        await runInspect(context, command.processedArgs[0] as number);
      }),
    );

  counts
    .command('verify')
    .description('compare every author\'s column with COUNT(*) and Redis with the column; exit 3 on drift')
    .option('--fix', 'repair drift: the column via tally.refresh_books_counts, Redis via the versioned mirror')
    .option('--chunk-size <n>', 'authors per query', integerIn(1, 100_000), 500)
    .action(
      run(async (context, command) => {
        const options = command.opts<{ fix?: boolean; chunkSize: number }>();
        return (await runVerify(context, { fix: options.fix === true, chunkSize: options.chunkSize })).exitCode;
      }),
    );

  counts
    .command('backfill')
    .description('compute NULL counts: enqueue the backfill job (default), or run it here')
    .addOption(new Option('--inline', 'run the backfill in this process, with progress').conflicts('wait'))
    .option('--wait', 'enqueue, then wait for a worker to finish the job, with progress')
    .option('--timeout <seconds>', 'with --wait: give up after this long', integerIn(1, 86_400), 600)
    .action(
      run(async (context, command) => {
        const options = command.opts<{ inline?: boolean; wait?: boolean; timeout: number }>();
        const mode = options.inline ? 'inline' : options.wait ? 'wait' : 'enqueue';
        await runBackfillCommand(context, { mode, timeoutMs: options.timeout * 1000 });
      }),
    );

  counts
    .command('rebuild-cache')
    .description('re-mirror every author\'s count from the column into Redis')
    .action(run(async (context) => void (await runRebuildCache(context))));

  program
    .command('outbox')
    .description('the outbox that feeds Redis')
    .command('status')
    .description('backlog, oldest change, heartbeat, workers seen and queue counts')
    .action(run(async (context) => void (await runOutboxStatus(context))));

  return { program, state };
}
