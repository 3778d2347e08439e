// The pagination parameters, read with DRF's rules: `page` through Django's Paginator (a Python
// int, at least 1, `last`, empty means 1) and `page_size` through `_positive_int(strict=True,
// cutoff=max)` (anything else falls back to the default, an oversized value is clamped).
import { invalidPage } from '../errors.js';
import type { QueryParams } from './query-string.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

// Python's int() of a string: surrounding whitespace, a sign, ASCII digits with single
// underscores between them. `2abc` and `1.5` are not integers (JavaScript's parseInt says 2 and 1).
const PYTHON_INT = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/;

/** The integer Python's int() reads from `text`, or undefined when it raises ValueError. */
export function parsePythonInt(text: string): bigint | undefined {
  const match = PYTHON_INT.exec(text);
  if (!match) return undefined;
  const magnitude = BigInt(match[2]!.replace(/_/g, ''));
  return match[1] === '-' ? -magnitude : magnitude;
}

/** `page_size`: the default unless a positive integer was sent; then at most MAX_PAGE_SIZE. */
export function readPageSize(query: QueryParams): number {
  const raw = query.get('page_size');
  if (raw === undefined) return DEFAULT_PAGE_SIZE;
  const size = parsePythonInt(raw);
  if (size === undefined || size <= 0n) return DEFAULT_PAGE_SIZE;
  return size > BigInt(MAX_PAGE_SIZE) ? MAX_PAGE_SIZE : Number(size);
}

/**
 * `page`: a page number from 1, or 'last'. Throws the 404 "Invalid page." for anything else and
 * for numbers so large that no table could reach them (their offset would not even be exact).
 */
export function readPageNumber(query: QueryParams, pageSize: number): number | 'last' {
  const raw = query.get('page') || '1';
  if (raw === 'last') return 'last';
  const page = parsePythonInt(raw);
  if (page === undefined || page < 1n || (page - 1n) * BigInt(pageSize) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalidPage();
  }
  return Number(page);
}
