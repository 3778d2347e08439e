// @tally/api: the Fastify REST API. Build it with buildApp(config); server.ts runs it.
export { buildApp, tallyApi, DEFAULT_BODY_LIMIT, type AppOptions, type BuildAppOptions, type TallyApp } from './app.js';
export { CountResolver, type AuthorBooksCount, type ResolvedCount } from './count-resolver.js';
export { ApiMetrics } from './metrics.js';
