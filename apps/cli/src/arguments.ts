// Parsers for numeric arguments; a bad value becomes a usage error (exit 2) naming the argument.
import { InvalidArgumentError } from 'commander';

/** An integer in [min, max]; `_` may group digits (1_000_000). */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const digits = value.replaceAll('_', '');
    const parsed = Number(digits);
    if (!/^[0-9]+$/.test(digits) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return parsed;
  };
}

export const authorIdArgument = integerIn(1, Number.MAX_SAFE_INTEGER);
