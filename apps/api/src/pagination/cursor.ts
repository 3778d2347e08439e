// Opaque keyset cursors. Like DRF's CursorPagination, a cursor is base64 of a small query string:
// `p` is the position (an id) and `r=1` reverses the direction. Forward pages hold ids greater than
// the position, reverse pages ids smaller than it, so every page is one index range scan however
// deep it is. Cursors are strict: anything we would not have written ourselves is rejected with
// DRF's 404 "Invalid cursor" (so a cursor cannot smuggle an offset or a huge number in).
import { invalidCursor } from '../errors.js';

export interface Cursor {
  /** null: the first page (forward) or the last page (reverse). */
  position: number | null;
  reverse: boolean;
}

export const FIRST_PAGE: Cursor = Object.freeze({ position: null, reverse: false });

const BASE64URL = /^[A-Za-z0-9_-]{0,64}$/;
const PAYLOAD = /^p=([1-9][0-9]{0,15})(&r=1)?$/;

export function encodeCursor(cursor: Cursor): string {
  if (cursor.position === null || cursor.position < 1) return cursor.reverse ? Buffer.from('r=1').toString('base64url') : '';
  const text = cursor.reverse ? `p=${cursor.position}&r=1` : `p=${cursor.position}`;
  return Buffer.from(text, 'ascii').toString('base64url');
}

/** Decodes a `cursor` parameter; the empty string is the first page. */
export function decodeCursor(encoded: string): Cursor {
  if (encoded === '') return FIRST_PAGE;
  if (!BASE64URL.test(encoded)) throw invalidCursor();
  const bytes = Buffer.from(encoded, 'base64url');
  // Node's decoder skips junk and accepts non-canonical tails: only our own spelling round-trips.
  if (bytes.toString('base64url') !== encoded) throw invalidCursor();
  const text = bytes.toString('latin1');
  if (text === 'r=1') return { position: null, reverse: true };
  const match = PAYLOAD.exec(text);
  if (!match) throw invalidCursor();
  const position = Number(match[1]);
  if (!Number.isSafeInteger(position)) throw invalidCursor();
  return { position, reverse: match[2] !== undefined };
}
