// Bulk loading for `tally seed`: COPY FROM STDIN, one statement per table, so the statement-level
// counter triggers run once per COPY and update each author once, however many books arrive.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Queryable } from './pool.js';

/** A connection that can run COPY: a plain client or a client checked out of a pool. */
export type CopyClient = Pick<pg.ClientBase, 'query'>;

export interface SeedAuthor {
  id: number;
  name: string;
}

export interface SeedBook {
  authorId: number;
  title: string;
}

/**
 * Draws `count` author ids from the table's identity sequence, so a seed knows its authors' ids
 * before COPY and never confuses them with rows that concurrent writers insert meanwhile.
 */
export async function reserveAuthorIds(db: Queryable, count: number): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT nextval(pg_get_serial_sequence('author', 'id')) AS id FROM generate_series(1, $1::int) ORDER BY 1`,
    [count],
  );
  return rows.map((row) => row.id);
}

// COPY's text format: backslash, tab, newline and carriage return must be escaped inside a value.
function copyText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (character) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[character]!);
}

async function copyBatches<T>(
  client: CopyClient,
  statement: string,
  batches: Iterable<readonly T[]> | AsyncIterable<readonly T[]>,
  line: (row: T) => string,
): Promise<number> {
  const stream = client.query(copyFrom(statement));
  async function* lines(): AsyncGenerator<string> {
    for await (const batch of batches) {
      if (batch.length > 0) yield batch.map(line).join('');
    }
  }
  await pipeline(Readable.from(lines()), stream);
  return stream.rowCount;
}

/** Inserts authors with explicit ids (see reserveAuthorIds) in one COPY; returns the rows copied. */
export function copyAuthors(
  client: CopyClient,
  batches: Iterable<readonly SeedAuthor[]> | AsyncIterable<readonly SeedAuthor[]>,
): Promise<number> {
  return copyBatches(client, 'COPY author (id, name) FROM STDIN', batches, (author) => `${author.id}\t${copyText(author.name)}\n`);
}

/** Inserts books in one COPY (one trigger run, one count update per author); returns the rows copied. */
export function copyBooks(
  client: CopyClient,
  batches: Iterable<readonly SeedBook[]> | AsyncIterable<readonly SeedBook[]>,
): Promise<number> {
  return copyBatches(client, 'COPY book (author_id, title) FROM STDIN', batches, (book) => `${book.authorId}\t${copyText(book.title)}\n`);
}
