// The service's configuration: read from the environment once at boot, validated against one
// schema, then handed to the rest of the code as a typed, frozen object.
import envSchema from 'env-schema';
import { Type, type Static } from 'typebox';
import { parseRedisUrl, RedisUrlError } from './redis-url.js';

export * from './redis-url.js';

export const COUNT_SOURCES = ['redis', 'column', 'count'] as const;
export type CountSource = (typeof COUNT_SOURCES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const port = (fallback: number) => Type.Integer({ minimum: 0, maximum: 65535, default: fallback });

const EnvSchema = Type.Object({
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://', default: 'postgres://postgres@127.0.0.1:5432/tally' }),
  REDIS_URL: Type.String({ pattern: '^rediss?(\\+cluster)?://', default: 'redis://127.0.0.1:6379/0' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  PORT: port(3000),
  WORKER_PORT: port(3001),
  REDIS_PREFIX: Type.String({ pattern: '^[A-Za-z0-9_.:{}-]*$', maxLength: 64, default: 'tally:' }),
  COUNT_STALENESS_MS: Type.Integer({ minimum: 100, maximum: 86_400_000, default: 2000 }),
  RECONCILE_INTERVAL_MS: Type.Integer({ minimum: 1000, maximum: 86_400_000, default: 60_000 }),
  COUNT_SOURCES: Type.String({
    pattern: `^(${COUNT_SOURCES.join('|')})(,(${COUNT_SOURCES.join('|')}))*$`,
    default: COUNT_SOURCES.join(','),
  }),
  API_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  TRUST_PROXY: Type.Boolean({ default: false }),
  LOG_LEVEL: Type.Union(LOG_LEVELS.map((level) => Type.Literal(level)), { default: 'info' }),
});
type Env = Static<typeof EnvSchema>;

export interface Config {
  readonly databaseUrl: string;
  /** One server (`redis://`, `rediss://`) or a Redis Cluster (`redis+cluster://host:port,...`); see parseRedisUrl. */
  readonly redisUrl: string;
  readonly host: string;
  readonly port: number;
  readonly workerPort: number;
  /** Prepended to every Redis key the service writes, e.g. `tally:author:42`. */
  readonly redisPrefix: string;
  /** How far behind the database a Redis count may be before the API stops serving it. */
  readonly countStalenessMs: number;
  readonly reconcileIntervalMs: number;
  /** Where the count resolver may look, in order; operators and benchmarks narrow it. */
  readonly countSources: readonly CountSource[];
  /** When set, writes and admin pages require `Authorization: Bearer <token>`. */
  readonly apiToken: string | undefined;
  /** Build links from X-Forwarded-Proto/Host when the API runs behind a proxy that sets them. */
  readonly trustProxy: boolean;
  readonly logLevel: LogLevel;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

interface AjvIssue {
  instancePath?: string;
  params?: { missingProperty?: string };
  message?: string;
}

/** A value as an error message may show it: no token, no password inside a URL. */
function shownValue(variable: string, raw: string): string {
  if (variable === 'API_TOKEN') return '<hidden>';
  if (variable.endsWith('_URL')) return raw.replace(/^([^:/]*:\/\/[^:@/]*:)[^@]*@/, '$1***@');
  return raw;
}

function describe(issue: AjvIssue, env: Record<string, string | undefined>): string {
  const variable = issue.instancePath?.replace(/^\//, '') || issue.params?.missingProperty || 'environment';
  const raw = env[variable];
  const shown = raw === undefined ? '' : ` (got ${JSON.stringify(shownValue(variable, raw))})`;
  return `${variable} ${issue.message ?? 'is invalid'}${shown}`;
}

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "not set", as in most shells' `VAR= command`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  let parsed: Env;
  try {
    parsed = envSchema<Env>({
      schema: EnvSchema,
      data: present,
      env: false,
      ajv: {
        customOptions: (ajv) => {
          ajv.opts.allErrors = true;
          return ajv;
        },
      },
    });
  } catch (error) {
    const issues = (error as { errors?: AjvIssue[] }).errors ?? [];
    const lines = issues.length > 0 ? issues.map((issue) => describe(issue, present)) : [String(error)];
    throw new ConfigError(`Invalid configuration:\n  - ${[...new Set(lines)].join('\n  - ')}`, { cause: error });
  }
  try {
    parseRedisUrl(parsed.REDIS_URL);
  } catch (error) {
    if (!(error instanceof RedisUrlError)) throw error;
    throw new ConfigError(`Invalid configuration:\n  - ${error.message}`, { cause: error });
  }
  const countSources = [...new Set(parsed.COUNT_SOURCES.split(','))] as CountSource[];
  return Object.freeze({
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    host: parsed.HOST,
    port: parsed.PORT,
    workerPort: parsed.WORKER_PORT,
    redisPrefix: parsed.REDIS_PREFIX,
    countStalenessMs: parsed.COUNT_STALENESS_MS,
    reconcileIntervalMs: parsed.RECONCILE_INTERVAL_MS,
    countSources: Object.freeze(countSources),
    apiToken: parsed.API_TOKEN,
    trustProxy: parsed.TRUST_PROXY,
    logLevel: parsed.LOG_LEVEL,
  });
}
