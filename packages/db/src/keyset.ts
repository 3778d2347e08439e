// The keyset condition every cursor page uses: rows after (forward) or before (backward) an id.

export type KeysetDirection = 'forward' | 'backward';

/**
 * `id > from` ascending, or `id < from` descending, from the bigint parameter `param` (NULL: from
 * that end). A bound instead of "param IS NULL OR ...", so the generic plan keeps an index range
 * condition; the cast keeps PostgreSQL from typing the parameter as a 32-bit integer (ids past
 * 2^31 would fail with 22003).
 */
export function keysetRange(param: string, direction: KeysetDirection): string {
  return direction === 'forward'
    ? `id > coalesce(${param}::bigint, 0) ORDER BY id ASC`
    : `id < coalesce(${param}::bigint, 9223372036854775807) ORDER BY id DESC`;
}
