// JSON lines on stdout (pino), one object per event, for the supervisor's log collector.
import { pino, type Logger } from 'pino';
import type { LogLevel } from '@tally/config';

export function createLogger(level: LogLevel): Logger {
  return pino({ name: 'tally-worker', level });
}
