// @tally/db: the only package that knows SQL. The API, worker and CLI call these functions.
export * from './authors.js';
export * from './books.js';
export * from './counts.js';
export * from './errors.js';
export * from './migrate.js';
export * from './outbox.js';
export * from './pool.js';
export type * from './rows.js';
