// Single flight with an optional reuse window: concurrent callers of one key share one execution,
// and callers arriving within `reuseMs` after it succeeded share its result. The COUNT(*) fallback
// uses it so that a burst of requests for one author runs one COUNT, not one per request (nor one
// after another). Failures are not reused: the next caller tries again.
import { performance } from 'node:perf_hooks';

interface Entry<V> {
  promise: Promise<V>;
  /** Monotonic time until which a settled result is reused; Infinity while running. */
  reuseUntil: number;
}

export class SingleFlight<K, V> {
  private readonly entries = new Map<K, Entry<V>>();

  run(key: K, work: () => Promise<V>, reuseMs: number): { promise: Promise<V>; started: boolean } {
    const existing = this.entries.get(key);
    if (existing && performance.now() < existing.reuseUntil) return { promise: existing.promise, started: false };
    const entry: Entry<V> = { promise: work(), reuseUntil: Infinity };
    this.entries.set(key, entry);
    entry.promise.then(
      () => {
        entry.reuseUntil = performance.now() + reuseMs;
        const timer = setTimeout(() => this.evict(key, entry), reuseMs);
        timer.unref();
      },
      () => this.evict(key, entry),
    );
    return { promise: entry.promise, started: true };
  }

  private evict(key: K, entry: Entry<V>): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }
}
