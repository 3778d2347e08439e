#!/usr/bin/env node
// `npm start` (after `npm run build`): creates the database when it is missing, migrates it, then
// runs the API and the worker as two child processes with the same environment, and prints where
// the API and its docs are.
//
// Contract: Ctrl-C or SIGTERM stops both children gracefully and waits for them; when one child
// dies, the other is stopped and the launcher exits non-zero, so no half of the service is left
// running alone. The children run in their own process groups: a terminal's Ctrl-C reaches only
// this launcher, which forwards one signal to each child (a child's second signal means "exit
// now", so it must not get one from the terminal and one from here).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, redactRedisUrl } from '../packages/config/dist/index.js';
import { ensureDatabase, migrate, redact } from '../packages/db/dist/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVICES = [
  { name: 'api', script: 'apps/api/dist/server.js' },
  { name: 'worker', script: 'apps/worker/dist/main.js' },
];
/** The children stop within about 10 s; after this they are killed. */
const STOP_TIMEOUT_MS = 15_000;
/** npm forwards the terminal's SIGINT as well: a repeat this soon is the same Ctrl-C, not a second one. */
const DUPLICATE_SIGNAL_MS = 1000;
const READY_TIMEOUT_MS = 60_000;

const say = (line) => process.stdout.write(`[tally] ${line}\n`);
const complain = (line) => process.stderr.write(`[tally] ${line}\n`);

function fail(message, error) {
  complain(message);
  if (error && process.env.LOG_LEVEL === 'debug') complain(error.stack ?? String(error));
  process.exit(1);
}

function displayHost(host) {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

async function prepareDatabase(url) {
  try {
    if (await ensureDatabase(url)) say(`created database ${redact(url)}`);
  } catch (error) {
    fail(`Cannot create or reach the database ${redact(url)}: ${error.message || error.code}. Start PostgreSQL or set DATABASE_URL.`, error);
  }
  try {
    const applied = await migrate(url);
    if (applied.length > 0) say(`applied migrations: ${applied.join(', ')}`);
  } catch (error) {
    fail(`Migrating ${redact(url)} failed: ${error.message}. Fix the cause and run npm start again.`, error);
  }
}

async function waitUntilReady(url, isStopping) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !isStopping()) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

function startServices() {
  const children = SERVICES.map(({ name, script }) => {
    const child = spawn(process.execPath, [script], {
      cwd: ROOT,
      env: process.env,
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    say(`${name} started (pid ${child.pid})`);
    return { name, child, exited, running: true };
  });
  let stopping = false;
  let firstSignalAt = 0;
  let exitCode = 0;

  const alive = () => children.filter((entry) => entry.running);
  const signalAll = (signal) => {
    for (const entry of alive()) {
      try {
        entry.child.kill(signal);
      } catch {
        // Already gone.
      }
    }
  };

  const stopAll = (signal) => {
    if (stopping) return;
    stopping = true;
    signalAll(signal);
    const killer = setTimeout(() => {
      const late = alive();
      if (late.length === 0) return;
      complain(`${late.map((entry) => entry.name).join(' and ')} did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing`);
      exitCode = 1;
      signalAll('SIGKILL');
    }, STOP_TIMEOUT_MS);
    killer.unref();
  };

  for (const entry of children) {
    entry.exited.then(({ code, signal }) => {
      entry.running = false;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (!stopping) {
        complain(`${entry.name} exited unexpectedly (${how}); stopping the rest`);
        exitCode = 1;
        stopAll('SIGTERM');
      } else if (code !== 0) {
        complain(`${entry.name} exited with ${how} while stopping`);
        exitCode = 1;
      } else {
        say(`${entry.name} stopped`);
      }
    });
  }

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (!stopping) {
        firstSignalAt = Date.now();
        say(`${signal}: stopping the api and the worker`);
        stopAll(signal === 'SIGHUP' ? 'SIGTERM' : signal);
      } else if (Date.now() - firstSignalAt > DUPLICATE_SIGNAL_MS) {
        complain(`second ${signal}: killing the api and the worker now`);
        exitCode = 1;
        signalAll('SIGKILL');
      }
    });
  }
  // Last resort when the launcher itself crashes: never leave a child behind.
  process.on('exit', () => signalAll('SIGKILL'));

  return {
    isStopping: () => stopping,
    async finished() {
      await Promise.all(children.map((entry) => entry.exited));
      return exitCode;
    },
  };
}

let config;
try {
  config = loadConfig();
} catch (error) {
  fail(error instanceof ConfigError ? error.message : `Cannot read the configuration: ${error}`, error);
}
for (const { script } of SERVICES) {
  if (!existsSync(new URL(`../${script}`, import.meta.url))) fail(`${script} is missing: run \`npm run build\` first (\`npm start\` does).`);
}

await prepareDatabase(config.databaseUrl);
const services = startServices();
const base = `http://${displayHost(config.host)}:${config.port}`;
if (await waitUntilReady(`${base}/ready`, services.isStopping)) {
  say(`ready: API ${base}  docs ${base}/docs  worker health http://${displayHost(config.host)}:${config.workerPort}/health`);
  say('press Ctrl-C to stop');
} else if (!services.isStopping()) {
  complain(`the API at ${base} is not ready after ${READY_TIMEOUT_MS / 1000} s (${base}/ready): is Redis running at ${redactRedisUrl(config.redisUrl)}?`);
}
process.exit(await services.finished());
