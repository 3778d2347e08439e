// Exit codes are part of the CLI's contract with scripts and cron jobs (see docs/operations.md).

export const ExitCode = {
  ok: 0,
  /** Something failed: unreachable database or Redis, missing author, a query error. */
  failure: 1,
  /** Bad arguments; the usage is printed. */
  usage: 2,
  /** `counts verify` found drift it did not repair. */
  drift: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as its message alone (no stack), exiting with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.failure,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A one-line reason from any error. Node reports a refused connection to a host with several
 * addresses (localhost: ::1 and 127.0.0.1) as an AggregateError with an empty message.
 */
export function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(reasonOf))].join('; ');
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = error.message || (typeof code === 'string' ? code : error.name);
    return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(error);
}
