// The deployment files run what runs here: docker-compose.yml and the systemd units start the
// same commands as the npm scripts, with a configuration the service accepts, and validate with
// the real tools (Debian's docker-compose, systemd-analyze). No Docker engine is needed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@tally/config';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

/** The node command an npm script ends with, e.g. `node apps/api/dist/server.js`. */
const nodeCommandOf = (script: string): string[] => scripts[script]!.split('&&').at(-1)!.trim().split(/\s+/);

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  restart?: string;
  stop_grace_period?: string;
}

function composeConfig(): { services: Record<string, ComposeService> } {
  // Without the caller's overrides, so the file's own defaults are what is checked.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(PORT|WORKER_PORT|API_TOKEN|LOG_LEVEL|COUNT_STALENESS_MS|RECONCILE_INTERVAL_MS|POSTGRES_PASSWORD)$/.test(name)),
  );
  const config = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: ROOT, env, encoding: 'utf8' });
  expect(config.status, config.stderr).toBe(0);
  // docker-compose prints YAML; its own Python dependency (PyYAML) turns it into JSON.
  const json = spawnSync('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], {
    input: config.stdout,
    encoding: 'utf8',
  });
  expect(json.status, json.stderr).toBe(0);
  return JSON.parse(json.stdout) as { services: Record<string, ComposeService> };
}

describe.skipIf(!has('docker-compose'))('docker-compose.yml (skipped: docker-compose is not installed; `apt-get install docker-compose`)', () => {
  it('validates with docker-compose config', () => {
    const run = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
  });

  it('runs the same commands as the npm scripts', () => {
    const { services } = composeConfig();
    expect(services.migrate!.command).toEqual(nodeCommandOf('migrate'));
    expect(services.api!.command).toEqual(nodeCommandOf('start:api'));
    expect(services.worker!.command).toEqual(nodeCommandOf('start:worker'));
  });

  it('PostgreSQL 15 and Redis 7 with noeviction and the append-only file', () => {
    const { services } = composeConfig();
    expect(services.postgres!.image).toBe('postgres:15');
    expect(services.redis!.image).toBe('redis:7');
    expect(services.redis!.command!.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(services.redis!.command!.join(' ')).toContain('--appendonly yes');
  });

  it('migrates once before the API and the worker start; both restart and have health checks', () => {
    const { services } = composeConfig();
    expect(services.migrate!.restart).toBe('no');
    expect(services.migrate!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const [name, probe] of [
      ['api', 'http://127.0.0.1:3000/ready'],
      ['worker', 'http://127.0.0.1:3001/health'],
    ] as const) {
      const service = services[name]!;
      expect(service.restart).toBe('unless-stopped');
      expect(service.depends_on).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      });
      expect(service.healthcheck!.test.join(' ')).toContain(probe);
      // Longer than the worker's 10 s graceful shutdown, Docker's default.
      expect(service.stop_grace_period).toBe('15s');
    }
  });

  it('every tally service\'s environment passes the service\'s own configuration check', () => {
    const { services } = composeConfig();
    for (const name of ['migrate', 'api', 'worker']) {
      const config = loadConfig(services[name]!.environment);
      expect(config.redisUrl).toBe('redis://redis:6379/0');
      expect(config.host).toBe('0.0.0.0');
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds in a node:20-slim stage with npm ci and tsc -b, and ships production dependencies only', () => {
    expect(dockerfile).toMatch(/^FROM node:20-slim AS build$/m);
    expect(dockerfile.match(/^FROM node:20-slim$/gm)).toHaveLength(1);
    expect(dockerfile).toMatch(/RUN npm ci\b/);
    expect(dockerfile).toMatch(/npx tsc -b && npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('copies every workspace manifest before npm ci, and every runtime path exists in the repository', () => {
    const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
    for (const workspace of workspaces) expect(dockerfile).toContain(`COPY ${workspace}/package.json ${workspace}/`);
    const runtimeSources = [...dockerfile.matchAll(/^COPY --from=build \/app\/(\S+)/gm)].map((match) => match[1]!);
    // dist/ and node_modules are produced by the build stage; the rest must exist in the repository.
    for (const path of runtimeSources.filter((source) => !/(^|\/)(dist|node_modules)$/.test(source))) {
      expect(existsSync(new URL(`../${path}`, import.meta.url)), path).toBe(true);
    }
    expect(runtimeSources).toEqual(expect.arrayContaining(['packages/db/migrations', 'packages/cache/lua']));
  });
});

describe('systemd units (deploy/systemd)', () => {
  const units = ['tally-migrate.service', 'tally-api.service', 'tally-worker.service'];
  const unit = (name: string) => read(`deploy/systemd/${name}`);
  const setting = (text: string, key: string) => text.match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1];

  it.skipIf(!has('systemd-analyze'))('pass systemd-analyze verify without a warning', () => {
    const run = spawnSync('systemd-analyze', ['verify', ...units.map((name) => `deploy/systemd/${name}`)], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr.trim()).toBe('');
  });

  it('start the same commands as the npm scripts, from one EnvironmentFile', () => {
    const expected = { 'tally-migrate.service': 'migrate', 'tally-api.service': 'start:api', 'tally-worker.service': 'start:worker' } as const;
    for (const name of units) {
      const [node, script, ...args] = nodeCommandOf(expected[name as keyof typeof expected]);
      expect(node).toBe('node');
      expect(setting(unit(name), 'ExecStart')).toBe(`/usr/bin/node /opt/tally/${[script, ...args].join(' ')}`);
      expect(setting(unit(name), 'EnvironmentFile')).toBe('/etc/tally/tally.env');
    }
  });

  it('the API and the worker restart always, after the migration, and get more than the worker\'s 10 s to stop', () => {
    for (const name of ['tally-api.service', 'tally-worker.service']) {
      const text = unit(name);
      expect(setting(text, 'Restart')).toBe('always');
      expect(setting(text, 'Requires')).toBe('tally-migrate.service');
      expect(setting(text, 'After')).toContain('tally-migrate.service');
      expect(setting(text, 'KillSignal')).toBe('SIGTERM');
      expect(Number(setting(text, 'TimeoutStopSec'))).toBeGreaterThan(10);
    }
    expect(setting(unit('tally-migrate.service'), 'Type')).toBe('oneshot');
  });

  it('the example environment file passes the configuration check', () => {
    const env = Object.fromEntries(
      read('deploy/systemd/tally.env.example')
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(() => loadConfig(env)).not.toThrow();
  });
});
