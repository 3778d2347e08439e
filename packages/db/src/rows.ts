// Row types mirror the tables in migrations/. Timestamps arrive as Date.

export interface AuthorRow {
  id: number;
  name: string;
  /** Exact number of books; null means not computed yet (the author predates the counter). */
  books_count: number | null;
  /** Version of books_count: grows with every change, never reused (tally.count_version_seq). */
  books_count_version: number;
  created_at: Date;
}

export interface BookRow {
  id: number;
  author_id: number;
  title: string;
  created_at: Date;
}

/** An author's count as stored in its row. */
export interface ColumnCount {
  /** null: not computed yet. */
  booksCount: number | null;
  version: number;
}
