// @tally/db: the only package that knows SQL. The API, worker and CLI call these functions.
export * from './authors.js';
export * from './benchmark.js';
export * from './books.js';
export * from './book-totals.js';
export * from './cache-sync.js';
export * from './counts.js';
export * from './errors.js';
export * from './migrate.js';
export * from './outbox.js';
export * from './outbox-pending.js';
export * from './pool.js';
export * from './seed.js';
export type * from './rows.js';
export * from './relay-wakeup.js';
export * from './author-books.js';
