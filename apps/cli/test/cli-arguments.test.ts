// Bad arguments and unreachable services: the operator gets a message naming what failed and a
// distinct exit code (2: usage, 1: failure), never a stack trace.
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const unreachable = { DATABASE_URL: 'postgres://postgres:s3cret@127.0.0.1:1/tally', REDIS_URL: 'redis://:s3cret@127.0.0.1:1/0' };

describe('tally rejects bad arguments with exit code 2 and the usage', () => {
  it.each([
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['a non-numeric author id', ['counts', 'inspect', 'abc'], /argument 'author'/],
    ['a missing author id', ['counts', 'inspect'], /missing required argument 'author'/],
    ['zero authors to seed', ['seed', '--authors', '0'], /--authors/],
    ['an unknown distribution', ['seed', '--distribution', 'gaussian'], /Allowed choices are uniform, skewed/],
    ['an unknown option', ['counts', 'verify', '--repair'], /unknown option '--repair'/],
    ['conflicting backfill modes', ['counts', 'backfill', '--inline', '--wait'], /cannot be used with/],
    ['no command at all', [], /Usage: tally/],
  ])('%s', async (_name, args, message) => {
    const run = await runCli(args, unreachable);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/Usage: tally/);
  });

  it('--help succeeds and lists every command', async () => {
    const run = await runCli(['--help'], unreachable);
    expect(run.code).toBe(0);
    for (const command of ['migrate', 'seed', 'counts', 'outbox']) expect(run.stdout).toContain(command);
  });
});

describe('tally names the service it cannot reach and exits 1', () => {
  it('an unreachable database: names PostgreSQL and the URL, with the password masked', async () => {
    const run = await runCli(['counts', 'verify'], unreachable);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Cannot connect to PostgreSQL at postgres://postgres:***@127.0.0.1:1/tally');
    expect(run.stderr).not.toContain('s3cret');
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('migrate against an unreachable server says so too', async () => {
    const run = await runCli(['migrate'], unreachable);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('PostgreSQL at postgres://postgres:***@127.0.0.1:1/tally');
  });

  it('an unreachable Redis: names Redis and its URL, with --json an error document on stdout', async () => {
    // The database is reachable (the server's maintenance database); Redis is not.
    const run = await runCli(['outbox', 'status', '--json'], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
      REDIS_URL: unreachable.REDIS_URL,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Cannot connect to Redis at redis://:***@127.0.0.1:1/0');
    expect(JSON.parse(run.stdout)).toEqual({ error: { message: expect.stringContaining('Redis'), exitCode: 1 } });
  });

  it('an invalid environment variable is named', async () => {
    const run = await runCli(['migrate'], { ...unreachable, COUNT_STALENESS_MS: 'soon' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('COUNT_STALENESS_MS');
  });
});
