import pg from 'pg';

// int8 (bigint ids, counts, versions) arrives as text by default. Every value we store stays far
// below 2^53, so numbers are exact; the parser refuses rather than rounds if that ever changes.
const INT8_OID = 20;
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`bigint ${text} does not fit a JavaScript number exactly`);
  }
  return value;
}

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Client = pg.Client;
/** Anything that can run a query: a pool, a checked-out client, or a plain client. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'> | Pick<pg.Client, 'query'>;

export interface PoolOptions {
  /** Pool size; the API wants a few per core, tools one or two. */
  max?: number;
  /** Shown in pg_stat_activity, so operators can tell the API, worker and CLI apart. */
  applicationName?: string;
  /** Fails a query that runs longer, server side, with SQLSTATE 57014. */
  statementTimeoutMs?: number;
  /**
   * Fails a query whose answer takes longer, client side: the backstop for a connection whose
   * peer vanished without a reset (the server-side timeout never fires then).
   */
  queryTimeoutMs?: number;
  connectionTimeoutMs?: number;
}

// TCP keepalive probes start after 10 s idle instead of the OS default of 2 hours, so a connection
// to a vanished server is noticed instead of waited on.
const KEEP_ALIVE = { keepAlive: true, keepAliveInitialDelayMillis: 10_000 } as const;

// Prepared statements always use their generic plan. Books are clustered by insertion time, so a
// prolific author's rows sit together at the end of the primary key; a custom plan for that author
// id expects them spread evenly, walks the primary key in id order and filters hundreds of thousands
// of rows (47-280 ms a page). The generic plan uses book(author_id, id) for every author (0.1 ms)
// and saves the re-planning of every execution.
const GENERIC_PLANS = '-c plan_cache_mode=force_generic_plan';

/** Creates a pool whose int8 values parse to numbers; attach an 'error' listener before use. */
export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  return new pg.Pool({
    connectionString,
    types,
    options: GENERIC_PLANS,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tally',
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    ...(options.statementTimeoutMs === undefined ? {} : { statement_timeout: options.statementTimeoutMs }),
    ...(options.queryTimeoutMs === undefined ? {} : { query_timeout: options.queryTimeoutMs }),
    ...KEEP_ALIVE,
  });
}

/** A single connection with the same parsing, for LISTEN, COPY, the relay's wake-up lock and tests. */
export function createClient(
  connectionString: string,
  applicationName = 'tally',
  options: Pick<PoolOptions, 'queryTimeoutMs'> = {},
): pg.Client {
  return new pg.Client({
    connectionString,
    types,
    application_name: applicationName,
    ...(options.queryTimeoutMs === undefined ? {} : { query_timeout: options.queryTimeoutMs }),
    ...KEEP_ALIVE,
  });
}

/** Runs `work` inside BEGIN/COMMIT on one pooled client, rolling back when it throws. */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError;
    }
    throw error;
  } finally {
    // A client whose ROLLBACK failed is in an unknown state: destroy it instead of reusing it.
    client.release(broken instanceof Error ? broken : undefined);
  }
}
