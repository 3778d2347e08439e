// LISTEN tally_outbox on a dedicated connection (pg-listen), as a wake-up hint for the relay. The
// outbox is the truth and a poll is the backstop, so a lost notification only costs latency.
//
// pg-listen needs help never to go deaf:
// - its reconnect loop gives up after retryTimeout (3 s by default) and then stays silent: here it
//   retries forever, with capped, jittered backoff;
// - its initial connect() does not retry: this module retries with a fresh subscriber, and does so
//   again if pg-listen ever reports that it gave up (an 'error' event);
// - notifications sent while disconnected are gone: every (re)connection wakes the relay once
//   LISTEN is in place, so changes committed during the gap are drained;
// - its paranoid check and connects get timeouts, so a half-open socket is noticed.
import { OUTBOX_CHANNEL } from '@tally/db';
import pgListen, { type Subscriber } from 'pg-listen';
import type { Logger } from 'pino';
import type { WorkerMetrics } from './metrics.js';

export type ListenerState = 'connecting' | 'listening' | 'reconnecting' | 'down' | 'closed';
export type WakeReason = 'notification' | 'listening' | 'reconnected';

export interface OutboxListener {
  readonly state: ListenerState;
  /** performance.now() since when the state is what it is. */
  readonly stateSince: number;
  /** Resolves once LISTEN is established (immediately when it is). */
  whenListening(): Promise<void>;
  close(): Promise<void>;
}

export interface OutboxListenerOptions {
  databaseUrl: string;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  logger: Logger;
  metrics: WorkerMetrics;
  /** Called on every notification and once LISTEN is (re-)established. Must not throw. */
  onWake: (reason: WakeReason) => void;
  /** Reconnect backoff: doubles from initialMs up to maxMs, with jitter. */
  retry?: { initialMs: number; maxMs: number };
  /** Interval of the `SELECT pg_backend_pid()` liveness check on the idle connection. */
  paranoidCheckMs?: number;
}

// pg-listen is CommonJS with a default export: Node hands ESM the module object.
const createSubscriber = pgListen.default;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/** Detaches a subscriber for good, including from a reconnect loop pg-listen may still be running. */
async function abandon(subscriber: Subscriber): Promise<void> {
  for (const event of ['connected', 'error', 'notification', 'reconnect'] as const) subscriber.events.removeAllListeners(event);
  subscriber.events.on('error', () => {});
  // A reconnect already under way finishes later and emits 'connected': close that client too.
  subscriber.events.on('connected', () => void subscriber.close().catch(() => {}));
  const closing = subscriber.close().catch(() => {});
  await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
}

export function startOutboxListener(options: OutboxListenerOptions): OutboxListener {
  const { logger, metrics } = options;
  const retry = options.retry ?? { initialMs: 100, maxMs: 5000 };
  const backoffMs = (attempt: number) => Math.min(retry.initialMs * 2 ** Math.min(attempt, 20), retry.maxMs) * (0.5 + Math.random() / 2);
  const closing = new AbortController();
  let state: ListenerState = 'connecting';
  let stateSince = performance.now();
  let current: Subscriber | undefined;
  let waiters: Array<() => void> = [];

  const setState = (next: ListenerState) => {
    if (next !== state) stateSince = performance.now();
    state = next;
    metrics.listenerUp.set(next === 'listening' ? 1 : 0);
    if (next === 'listening' || next === 'closed') {
      for (const resolve of waiters) resolve();
      waiters = [];
    }
  };

  const subscriberFor = () =>
    createSubscriber(
      {
        connectionString: options.databaseUrl,
        application_name: options.applicationName ?? 'tally-worker-listener',
        connectionTimeoutMillis: 5000,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        // Bounds LISTEN and the paranoid check; a hung socket then fails and reconnects.
        query_timeout: 10_000,
      },
      {
        retryInterval: backoffMs,
        retryTimeout: Number.POSITIVE_INFINITY,
        retryLimit: Number.POSITIVE_INFINITY,
        paranoidChecking: options.paranoidCheckMs ?? 10_000,
        // The payload is empty; the default JSON.parse would report malformed ones as 'error'.
        parse: (payload: string) => payload,
      },
    );

  const establish = async (): Promise<void> => {
    for (let attempt = 0; !closing.signal.aborted; attempt += 1) {
      const subscriber = subscriberFor();
      let established = false;
      subscriber.events.on('notification', () => options.onWake('notification'));
      subscriber.events.on('reconnect', (reconnectAttempt: number) => {
        if (!established) return;
        if (reconnectAttempt === 1) logger.warn('lost the LISTEN connection; reconnecting (the poll keeps the relay going)');
        setState('reconnecting');
      });
      subscriber.events.on('connected', () => {
        // The first 'connected' comes before LISTEN; later ones after LISTEN was re-issued.
        if (!established) return;
        metrics.reconnects.inc({ connection: 'pg_listener' });
        logger.info('LISTEN re-established; draining what was committed meanwhile');
        setState('listening');
        options.onWake('reconnected');
      });
      subscriber.events.on('error', (error: Error) => {
        if (!established || closing.signal.aborted) return;
        // pg-listen reports here that it stopped trying; start over with a fresh subscriber.
        established = false;
        metrics.errors.inc({ kind: 'listener' });
        logger.error({ err: error }, 'the LISTEN connection failed for good; starting a new one');
        setState('down');
        current = undefined;
        establishing = abandon(subscriber).then(establish);
      });
      try {
        await subscriber.connect();
        await subscriber.listenTo(OUTBOX_CHANNEL);
        if (closing.signal.aborted) {
          await abandon(subscriber);
          return;
        }
        established = true;
        current = subscriber;
        if (attempt > 0) metrics.reconnects.inc({ connection: 'pg_listener' });
        logger.info({ channel: OUTBOX_CHANNEL }, 'listening for outbox notifications');
        setState('listening');
        options.onWake('listening');
        return;
      } catch (error) {
        metrics.errors.inc({ kind: 'listener' });
        const delay = backoffMs(attempt);
        if (attempt === 0 || attempt % 20 === 0) {
          logger.error({ err: error, attempt, retryInMs: Math.round(delay) }, 'cannot LISTEN on PostgreSQL yet; retrying (the poll keeps the relay going)');
        }
        setState('down');
        await abandon(subscriber);
        await sleep(delay, closing.signal);
      }
    }
  };
  let establishing = establish();

  return {
    get state() {
      return state;
    },
    get stateSince() {
      return stateSince;
    },
    whenListening() {
      if (state === 'listening' || state === 'closed') return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    async close() {
      if (closing.signal.aborted) return;
      closing.abort();
      setState('closed');
      // A connect in flight notices the abort and abandons its subscriber itself.
      await Promise.race([establishing, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
      const subscriber = current;
      current = undefined;
      if (subscriber) await abandon(subscriber);
    },
  };
}
