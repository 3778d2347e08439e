// Whether Redis counts may be served: the worker keeps `<prefix>{relay}:heartbeat` alive only while
// its counts are within COUNT_STALENESS_MS of the database (see docs/architecture.md). Asking Redis
// on every request would double the hot path's round trips, so this polls the key's remaining TTL
// in the background and keeps a local deadline on the monotonic clock.
//
// The deadline is measured from when the poll was *sent*, so it never outlives the key. A heartbeat
// withdrawn early (Redis lost data and is being rebuilt) is noticed within one poll interval; in
// that window a count is only served when Redis still holds it, i.e. it was not lost.
import { performance } from 'node:perf_hooks';
import { heartbeatTtlMs, type RedisClient, type RedisKeys } from '@tally/cache';

export class HeartbeatWatch {
  private freshUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly intervalMs: number,
  ) {}

  /** True while the worker's promise of fresh counts holds. One comparison, no I/O. */
  isFresh(): boolean {
    return performance.now() < this.freshUntil;
  }

  /** Polls the heartbeat now (coalesced with a poll in flight). Never throws. */
  refresh(): Promise<void> {
    this.polling ??= this.poll().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async poll(): Promise<void> {
    const sentAt = performance.now();
    try {
      const ttl = await heartbeatTtlMs(this.redis, this.keys);
      this.freshUntil = ttl > 0 ? sentAt + ttl : 0;
    } catch {
      // Redis unreachable or hung: stop trying it until a poll succeeds, so requests do not each
      // wait for a command timeout before falling through to the column.
      this.freshUntil = 0;
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops polling; safe to call twice. Waits for a poll in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.freshUntil = 0;
    await this.polling;
  }
}
