// HTTP load at a fixed concurrency with autocannon, run from the bench process against a server in
// another process. autocannon's own latency histogram counts whole milliseconds; its 'response'
// event carries the exact time of each response, which is what the percentiles here are made of.
import autocannon from 'autocannon';
import type { LoadLength } from './plan.js';
import { startCpuMeter } from './process-cpu.js';
import { LatencyRecorder, percentile, type LoadFigure } from './stats.js';

export interface HttpLoadOptions {
  url: string;
  connections: number;
  length: LoadLength;
  /** The server's pid, to report the CPU it used. */
  serverPid?: number;
}

export async function runHttpLoad(options: HttpLoadOptions): Promise<LoadFigure> {
  const latencies = new LatencyRecorder();
  const meter = startCpuMeter(options.serverPid);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    // autocannon stops at a sampling tick (every second by default): ticks of 100 ms keep a run
    // within 0.1 s of its duration. Its requests/s come from the 2xx count and the real duration.
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.length.durationSec,
        ...(options.length.maxRequests === undefined ? {} : { maxOverallRequests: options.length.maxRequests }),
        pipelining: 1,
        timeout: 30,
        sampleInt: 100,
      },
      (error: unknown, finished: autocannon.Result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(finished)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      if (statusCode >= 200 && statusCode < 300) latencies.record(responseTimeMs);
    });
  });
  const cpu = meter.stop();
  const samples = latencies.samples();
  return {
    requestsPerSec: result.duration > 0 ? result['2xx'] / result.duration : 0,
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    samples: samples.length,
    errors: result.non2xx + result.errors,
    ...cpu,
  };
}

/** One request, checked, before a variant is measured: a fast wrong answer is not a figure. */
export async function probe<T>(url: string, check: (response: Response, body: unknown) => T): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new Error(`GET ${url} failed: ${String(error)}`, { cause: error });
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the check sees the text and says what it expected.
  }
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return check(response, body);
}
