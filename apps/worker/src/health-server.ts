// The worker's own small HTTP server on WORKER_PORT: /health for supervisors (docker compose,
// systemd, Kubernetes) and /metrics for Prometheus. It never touches PostgreSQL or Redis itself:
// it reports what the worker last observed, so a slow dependency cannot hang the probe.
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface HealthReport {
  /** ok: relaying normally; degraded: see problems (the process keeps retrying by itself). */
  status: 'ok' | 'degraded';
  problems: string[];
  [detail: string]: unknown;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: {
  host: string;
  port: number;
  logger: Logger;
  registry: Registry;
  report: () => HealthReport;
}): Promise<HealthServer> {
  // Probes every few seconds would drown the log: requests are not logged.
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.get('/health', async (_request, reply) => {
    const report = options.report();
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await options.registry.metrics();
    return reply.type(options.registry.contentType).send(body);
  });
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await app.close().catch(() => {});
    throw new Error(
      `The worker cannot serve health and metrics on ${options.host}:${options.port}: ${String(error)}. ` +
        'Set WORKER_PORT to a free port (0 picks one).',
      { cause: error },
    );
  }
  const address = app.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () => app.close(),
  };
}
