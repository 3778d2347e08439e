// SQLSTATE codes the service reacts to, named (https://www.postgresql.org/docs/current/errcodes-appendix.html).
export const PgErrorCode = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  notNullViolation: '23502',
  stringDataRightTruncation: '22001',
  numericValueOutOfRange: '22003',
  invalidTextRepresentation: '22P02',
  characterNotInRepertoire: '22021',
  untranslatableCharacter: '22P05',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  queryCanceled: '57014',
  adminShutdown: '57P01',
  cannotConnectNow: '57P03',
  duplicateDatabase: '42P04',
  invalidCatalogName: '3D000',
  lockNotAvailable: '55P03',
  invalidTransactionState: '25000',
} as const;

export type PgErrorCode = (typeof PgErrorCode)[keyof typeof PgErrorCode];

/** The SQLSTATE of a PostgreSQL error, or undefined for anything else. */
export function pgErrorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code } = error as { code: unknown };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** Errors a caller may retry: the transaction lost a race, not a rule. */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = pgErrorCode(error);
  return code === PgErrorCode.serializationFailure || code === PgErrorCode.deadlockDetected;
}
