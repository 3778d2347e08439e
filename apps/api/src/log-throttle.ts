// ioredis reports every failed reconnect attempt; while Redis is down that is one error per
// backoff step. Log the first, then at most one every `intervalMs`, with how many were skipped.
import type { FastifyBaseLogger } from 'fastify';

export function logThrottled(log: FastifyBaseLogger, message: string, intervalMs = 10_000): (error: Error) => void {
  let lastAt = -Infinity;
  let skipped = 0;
  return (error) => {
    const now = Date.now();
    if (now - lastAt < intervalMs) {
      skipped += 1;
      return;
    }
    log.warn({ err: error, skipped }, message);
    lastAt = now;
    skipped = 0;
  };
}
