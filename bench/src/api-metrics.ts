// How many COUNT(*) statements the API actually ran during a load run, from its Prometheus
// counter. The API coalesces concurrent COUNTs of one author and may reuse a result briefly, so
// the "COUNT path" under load is not one COUNT per request: the report shows the real ratio.
const COUNT_QUERIES = /^tally_api_count_queries_total\{scope="author"\} ([0-9.e+]+)$/m;

/** The API's author COUNT(*) counter, or undefined when /metrics does not expose it. */
export async function readAuthorCountQueries(baseUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) return undefined;
    const text = await response.text();
    if (!text.includes('# TYPE tally_api_count_queries_total counter')) return undefined;
    // A labelled series appears with its first increment: absent means none yet.
    const match = COUNT_QUERIES.exec(text);
    return match ? Number(match[1]) : 0;
  } catch {
    return undefined;
  }
}
