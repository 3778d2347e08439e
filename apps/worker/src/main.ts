// Process entry of the worker (`npm run start:worker`, `node apps/worker/dist/main.js`). Reads the
// configuration once, starts the worker, and shuts down gracefully on SIGTERM/SIGINT: exit 0 when
// the shutdown completed, 1 when it failed or timed out; a second signal exits at once.
import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfig, type Config } from '@tally/config';
import { createLogger } from './logger.js';
import { startWorker } from './worker.js';

/** Below the 10 s a supervisor typically waits between SIGTERM and SIGKILL. */
const SHUTDOWN_DEADLINE_MS = 9000;

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
const logger = createLogger(config.logLevel);

try {
  const worker = await startWorker(config, { logger });
  closeWithGrace(
    {
      delay: SHUTDOWN_DEADLINE_MS,
      logger: { error: (message: unknown) => logger.error({ detail: message }, 'shutdown problem') },
      onSecondSignal: (signal) => {
        logger.warn({ signal }, 'second signal: exiting now without finishing the work in flight');
        process.exit(1);
      },
    },
    async ({ signal, err }) => {
      if (err) logger.fatal({ err }, 'unexpected error; shutting down');
      else logger.info({ signal }, 'shutdown requested');
      await worker.stop();
    },
  );
} catch (error) {
  logger.fatal({ err: error }, 'the worker could not start');
  process.exit(1);
}
