// The machine and servers the figures come from: the report's header. Load averages at the start
// and end say how busy the shared machine was while the benchmark ran.
import { availableParallelism, cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { readServerSettings, type Queryable } from '@tally/db';
import type { RedisClient } from '@tally/cache';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: { version: string; sharedBuffers: string; synchronousCommit: string; maxConnections: string };
  redisVersion: string;
  /** 1-minute load average when the run started. */
  loadAverageAtStart: number;
}

export async function describeMachine(db: Queryable, redis: RedisClient): Promise<MachineInfo> {
  const [postgres, info] = await Promise.all([readServerSettings(db), redis.info('server')]);
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: totalmem() / 1024 ** 3,
    os: `${osType()} ${release()}`,
    node: process.version,
    postgres,
    redisVersion: /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown',
    loadAverageAtStart: loadavg()[0]!,
  };
}

export function currentLoadAverage(): number {
  return loadavg()[0]!;
}
