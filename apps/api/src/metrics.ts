// Prometheus metrics of one app instance, in its own registry (several apps may share a process in
// tests; the default global registry would make them collide).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { COUNT_SOURCES, type CountSource } from '@tally/config';

export type CountFallbackReason = 'heartbeat_stale' | 'redis_missing' | 'redis_error' | 'column_null';
export type BackfillOutcome = 'queued' | 'failed' | 'skipped_redis_down';

export class ApiMetrics {
  readonly registry = new Registry();

  /** Counted responses by where their count came from. */
  readonly countedResponses = new Counter({
    name: 'tally_api_counted_responses_total',
    help: 'Paginated responses served, by the source of their count (redis, column, count)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly resolveDuration = new Histogram({
    name: 'tally_api_count_resolve_seconds',
    help: 'Time the count resolver took per lookup, by the source that answered',
    labelNames: ['source'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly fallbacks = new Counter({
    name: 'tally_api_count_fallbacks_total',
    help: 'Why a faster count source was passed over for the next one',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** COUNT(*) statements the resolver sent to PostgreSQL (after single-flight coalescing). */
  readonly countQueries = new Counter({
    name: 'tally_api_count_queries_total',
    help: 'COUNT(*) queries the count resolver ran, by scope (author or all books)',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });

  readonly backfillRequests = new Counter({
    name: 'tally_api_backfill_requests_total',
    help: 'Backfill jobs the API asked for after a COUNT(*) fallback, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'tally_api_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    for (const source of COUNT_SOURCES) this.countedResponses.labels(source).inc(0);
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'tally_api_' });
  }

  countServed(source: CountSource): void {
    this.countedResponses.labels(source).inc();
  }
}
