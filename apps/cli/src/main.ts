#!/usr/bin/env node
// Entry point of the `tally` command: parses the arguments, runs the command, and turns every
// failure into a message on stderr and an exit code (see errors.ts), never a stack trace for
// conditions an operator can fix.
import { CommanderError } from 'commander';
import { pgErrorCode } from '@tally/db';
import { CliError, ExitCode, reasonOf } from './errors.js';
import { buildProgram } from './program.js';

// SQLSTATE 42P01: the tables are missing, i.e. the database exists but was never migrated.
const UNDEFINED_TABLE = '42P01';

function report(error: unknown, json: boolean): ExitCode {
  let message: string;
  let exitCode: ExitCode = ExitCode.failure;
  if (error instanceof CliError) {
    message = error.message;
    exitCode = error.exitCode;
  } else if (pgErrorCode(error) === UNDEFINED_TABLE) {
    message = `The database is not migrated (${reasonOf(error)}). Run \`tally migrate\` first.`;
  } else {
    message = `Unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  }
  process.stderr.write(`tally: ${message}\n`);
  if (json) process.stdout.write(`${JSON.stringify({ error: { message, exitCode } })}\n`);
  return exitCode;
}

export async function main(argv: readonly string[]): Promise<ExitCode> {
  const { program, state } = buildProgram();
  try {
    await program.parseAsync(argv);
    return state.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed the message and the usage.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? ExitCode.ok : ExitCode.usage;
    }
    return report(error, argv.includes('--json'));
  }
}

// `tally counts verify | head` closes stdout early: stop quietly, as other Unix tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.ok);
  throw error;
});

process.exitCode = await main(process.argv);
// Every command closes its connections, so the process ends by itself; if a handle still lingers
// (a bug), leave anyway instead of hanging a cron job.
setTimeout(() => process.exit(), 5000).unref();
