// How many books each seeded author gets. Deterministic, so two seeds of the same size hold the
// same shape and benchmarks can be compared.

export const DISTRIBUTIONS = ['uniform', 'skewed'] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

/**
 * Books per author, summing to exactly `books`. uniform: as even as possible. skewed: Zipf's law
 * (the k-th author gets about 1/k of the first author's books), the long tail real catalogs have,
 * so one author holds the deep pages that make COUNT(*) slow.
 */
export function booksPerAuthor(authors: number, books: number, distribution: Distribution): number[] {
  if (authors <= 0) return [];
  const weights = Array.from({ length: authors }, (_, index) => (distribution === 'uniform' ? 1 : 1 / (index + 1)));
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const counts = weights.map((weight) => Math.floor((books * weight) / totalWeight));
  // Rounding down leaves fewer than `authors` books over; the heaviest authors take one each.
  let remainder = books - counts.reduce((sum, count) => sum + count, 0);
  for (let index = 0; remainder > 0; index = (index + 1) % authors, remainder -= 1) counts[index]! += 1;
  return counts;
}
