// Ids in paths (/authors/:id) and in the `author` filter. Django looks rows up by whatever Python's
// int() reads; a value that is not an integer, or no row can have, is a 404 "Not found." (never a
// 400 or 500), without asking the database.
import { notFound } from './errors.js';
import { parsePythonInt } from './pagination/params.js';

const MAX_ID = BigInt(Number.MAX_SAFE_INTEGER);

export function parseId(raw: string): number {
  const id = parsePythonInt(raw);
  if (id === undefined || id < 1n || id > MAX_ID) throw notFound();
  return Number(id);
}
