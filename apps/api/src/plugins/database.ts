// The API's PostgreSQL pool: created here, closed when the app closes.
import fp from 'fastify-plugin';
import { createPool, type Pool } from '@tally/db';

declare module 'fastify' {
  interface FastifyInstance {
    db: Pool;
  }
}

export interface DatabaseOptions {
  databaseUrl: string;
  /** Each list request holds up to two connections at once (page and count run concurrently). */
  poolMax: number;
  /** Bounds a runaway statement (e.g. a COUNT(*) on a huge author); the request gets a 503. */
  statementTimeoutMs: number;
}

export default fp<DatabaseOptions>(
  async (app, options) => {
    const pool = createPool(options.databaseUrl, {
      max: options.poolMax,
      applicationName: 'tally-api',
      statementTimeoutMs: options.statementTimeoutMs,
      connectionTimeoutMs: 3000,
    });
    // An idle client that loses its server emits here; the pool replaces it on the next query.
    pool.on('error', (error) => app.log.warn({ err: error }, 'idle PostgreSQL connection failed; it will be replaced'));
    app.decorate('db', pool);
    app.addHook('onClose', async () => {
      await pool.end();
    });
  },
  { name: 'tally-database' },
);
