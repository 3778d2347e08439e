// The API process: configuration from the environment, pino logging, HTTP timeouts, listen, and a
// graceful close on SIGTERM/SIGINT (stop accepting, finish requests in flight, close pools); a
// second signal or the grace delay forces the exit. Run: node apps/api/dist/server.js
import closeWithGrace from 'close-with-grace';
import { LogController } from 'fastify';
import { ConfigError, loadConfig, type Config } from '@tally/config';
import { buildApp } from './app.js';

const CLOSE_GRACE_MS = 10_000;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${error.message}\nFix the variables above and start the API again.`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const app = await buildApp(config, {
    logger: { level: config.logLevel },
    processMetrics: true,
    server: {
      // Fastify logs two info lines per request; at thousands of requests a second that costs more
      // than the request. Per-route durations are in /metrics; LOG_LEVEL=debug turns the lines on.
      logController: new LogController({ disableRequestLogging: !['debug', 'trace'].includes(config.logLevel) }),
      // Slow or idle clients cannot hold sockets forever; keep-alive longer than typical LB idle timeouts.
      connectionTimeout: 30_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 72_000,
      return503OnClosing: true,
    },
  });

  closeWithGrace({ delay: CLOSE_GRACE_MS }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing the API after an unexpected error');
    else app.log.info({ signal }, 'closing the API');
    await app.close();
  });

  try {
    const address = await app.listen({ host: config.host, port: config.port });
    app.log.info(`tally API listening on ${address} (OpenAPI UI at ${address}/docs)`);
  } catch (error) {
    app.log.error({ err: error }, `could not listen on ${config.host}:${config.port}`);
    await app.close();
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error('tally API failed to start:', error);
  process.exit(1);
});
