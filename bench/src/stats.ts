// Figures and how rounds are combined. Every figure is measured once per round; the report shows
// the median over rounds, and each ratio is the median of the per-round ratios (both sides of a
// ratio ran in the same round, minutes apart at most, so drift on a shared machine cancels out).

/** One load run at a fixed concurrency: throughput and the latency its requests saw. */
export interface LoadFigure {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Successful requests measured. */
  samples: number;
  /** Non-2xx answers, socket errors and timeouts: a figure with errors is flagged in the report. */
  errors: number;
  /** CPU used during the run, in cores (1.0 = one core busy), when measured. */
  serverCpu?: number;
  loadGeneratorCpu?: number;
  /** COUNT(*) statements the API ran per request answered (its COUNT path coalesces and reuses). */
  countQueriesPerRequest?: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank percentile (0 < p <= 100) of unsorted samples. */
export function percentile(samples: readonly number[] | Float64Array, p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** A growable list of latencies without an object per sample (tens of thousands per run). */
export class LatencyRecorder {
  private values = new Float64Array(4096);
  private length = 0;

  record(ms: number): void {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length] = ms;
    this.length += 1;
  }

  get count(): number {
    return this.length;
  }

  samples(): Float64Array {
    return this.values.subarray(0, this.length);
  }
}

/** Figures of every variant, one entry per round, in round order. */
export class Series<T> {
  private readonly byKey = new Map<string, T[]>();

  add(key: string, value: T): void {
    const list = this.byKey.get(key);
    if (list) list.push(value);
    else this.byKey.set(key, [value]);
  }

  get(key: string): readonly T[] {
    return this.byKey.get(key) ?? [];
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }
}

export interface LoadSummary {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** requests/s of each round, for the report's "rounds" column. */
  perRound: number[];
  serverCpu: number;
  loadGeneratorCpu: number;
  countQueriesPerRequest: number;
}

export function summarizeLoad(rounds: readonly LoadFigure[]): LoadSummary {
  const optional = (pick: (figure: LoadFigure) => number | undefined) =>
    median(rounds.map(pick).filter((value): value is number => value !== undefined));
  return {
    requestsPerSec: median(rounds.map((figure) => figure.requestsPerSec)),
    p50Ms: median(rounds.map((figure) => figure.p50Ms)),
    p99Ms: median(rounds.map((figure) => figure.p99Ms)),
    errors: rounds.reduce((sum, figure) => sum + figure.errors, 0),
    perRound: rounds.map((figure) => figure.requestsPerSec),
    serverCpu: optional((figure) => figure.serverCpu),
    loadGeneratorCpu: optional((figure) => figure.loadGeneratorCpu),
    countQueriesPerRequest: optional((figure) => figure.countQueriesPerRequest),
  };
}

/** Median over rounds of numerator/denominator, pairing the two series round by round. */
export function medianRatio(numerators: readonly number[], denominators: readonly number[]): number {
  const ratios: number[] = [];
  for (let round = 0; round < Math.min(numerators.length, denominators.length); round += 1) {
    ratios.push(numerators[round]! / denominators[round]!);
  }
  return median(ratios);
}

/** Rotates a list by `by` places, so each round starts with a different variant. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const shift = ((by % items.length) + items.length) % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
