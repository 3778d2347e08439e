// A/B rounds: every variant runs once per round; the order of groups (servers) and of the
// variants inside them rotates from round to round, so no variant always runs first, last, or
// right after the same neighbour on a machine whose load drifts.
import type { Progress } from './progress.js';
import { rotate, type LoadFigure, type Series } from './stats.js';
import type { LoadDuration, LoadLength } from './plan.js';

export interface Variant {
  /** Key of the variant's series, e.g. `page:redis:1M`. */
  key: string;
  load: LoadDuration;
  /** Checks one answer before the variant is timed; throws with what was wrong. */
  check?(): Promise<void>;
  measure(length: LoadLength): Promise<LoadFigure>;
}

/** Variants that share a resource opened once per round: an API process, a pool. */
export interface VariantGroup {
  name: string;
  open(): Promise<OpenGroup>;
}

export interface OpenGroup {
  variants: Variant[];
  close(): Promise<void>;
}

export function describeFigure(figure: LoadFigure): string {
  const errors = figure.errors > 0 ? `, ${figure.errors} ERRORS` : '';
  return `${figure.requestsPerSec.toFixed(0)} req/s, p50 ${figure.p50Ms.toFixed(2)} ms, p99 ${figure.p99Ms.toFixed(2)} ms${errors}`;
}

export async function runRounds(
  groups: readonly VariantGroup[],
  rounds: number,
  series: Series<LoadFigure>,
  progress: Progress,
): Promise<void> {
  for (let round = 0; round < rounds; round += 1) {
    for (const group of rotate(groups, round)) {
      progress.step(`round ${round + 1}/${rounds}: ${group.name}`);
      const opened = await group.open();
      try {
        for (const variant of rotate(opened.variants, round)) {
          await variant.check?.();
          if (variant.load.warmupRequests > 0) {
            await variant.measure({ durationSec: variant.load.warmupMaxSec, maxRequests: variant.load.warmupRequests });
          }
          const figure = await variant.measure({ durationSec: variant.load.measureSec });
          series.add(variant.key, figure);
          progress.step(`  ${variant.key}: ${describeFigure(figure)}`);
        }
      } finally {
        await opened.close();
      }
    }
  }
}
