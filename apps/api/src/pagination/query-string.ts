// Query strings read and rewritten the way Django and DRF do, so links and parameter parsing match
// what a DRF client observes: `parse_qs(keep_blank_values=True)` to read (the last value of a
// repeated name wins, as with QueryDict.get), and `replace_query_param`/`remove_query_param` to
// build links (parameters sorted by name, encoded with `quote_plus`).

const HEX = /^[0-9A-Fa-f]{2}$/;
const SAFE_BYTE = new Uint8Array(256);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~') SAFE_BYTE[char.charCodeAt(0)] = 1;
const ALREADY_SAFE = /^[A-Za-z0-9_.~-]*$/;
const NEEDS_DECODING = /[%+]/;

/** Python's `unquote_plus`: '+' is a space, bad escapes stay as written, bad UTF-8 becomes U+FFFD. */
export function unquotePlus(text: string): string {
  if (!NEEDS_DECODING.test(text)) return text;
  const spaced = text.replace(/\+/g, ' ');
  const bytes: number[] = [];
  for (let index = 0; index < spaced.length; ) {
    const hex = spaced.slice(index + 1, index + 3);
    if (spaced[index] === '%' && HEX.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      index += 3;
      continue;
    }
    const codePoint = spaced.codePointAt(index)!;
    const char = String.fromCodePoint(codePoint);
    for (const byte of Buffer.from(char, 'utf8')) bytes.push(byte);
    index += char.length;
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Python's `quote_plus` with its always-safe set; everything else is %XX of its UTF-8 bytes. */
export function quotePlus(text: string): string {
  if (ALREADY_SAFE.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (SAFE_BYTE[byte]) out += String.fromCharCode(byte);
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Code point order, as Python's `sorted` compares strings (JavaScript compares UTF-16 units). */
function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    const difference = left[index]!.codePointAt(0)! - right[index]!.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

/** The parameters of one request, in the order they were sent. */
export class QueryParams {
  private constructor(private readonly pairs: ReadonlyArray<readonly [string, string]>) {}

  /** Parses the query part of a raw request URL (`/path?a=1&b=`). */
  static fromUrl(url: string): QueryParams {
    const mark = url.indexOf('?');
    return QueryParams.parse(mark === -1 ? '' : url.slice(mark + 1));
  }

  static parse(query: string): QueryParams {
    const pairs: Array<readonly [string, string]> = [];
    if (query !== '') {
      for (const part of query.split('&')) {
        if (part === '') continue;
        const equals = part.indexOf('=');
        pairs.push(
          equals === -1 ? [unquotePlus(part), ''] : [unquotePlus(part.slice(0, equals)), unquotePlus(part.slice(equals + 1))],
        );
      }
    }
    return new QueryParams(pairs);
  }

  has(name: string): boolean {
    return this.pairs.some(([key]) => key === name);
  }

  /** The last value sent for `name` (Django's QueryDict.get), or undefined. */
  get(name: string): string | undefined {
    for (let index = this.pairs.length - 1; index >= 0; index -= 1) {
      const [key, value] = this.pairs[index]!;
      if (key === name) return value;
    }
    return undefined;
  }

  /** DRF's `replace_query_param` (value given) or `remove_query_param` (value null), encoded. */
  encodeWith(name: string, value: string | null): string {
    const grouped = new Map<string, string[]>();
    for (const [key, item] of this.pairs) {
      const values = grouped.get(key);
      if (values) values.push(item);
      else grouped.set(key, [item]);
    }
    if (value === null) grouped.delete(name);
    else grouped.set(name, [value]);
    const parts: string[] = [];
    for (const key of [...grouped.keys()].sort(compareCodePoints)) {
      for (const item of grouped.get(key)!) parts.push(`${quotePlus(key)}=${quotePlus(item)}`);
    }
    return parts.join('&');
  }
}
