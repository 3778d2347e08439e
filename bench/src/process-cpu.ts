// CPU used by the server and by the load generator during a run, in cores. On a 2-core machine a
// load generator near 1.0 is itself the ceiling: the report shows it next to the /health figure.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

// Linux reports utime and stime in clock ticks of USER_HZ, 100 on every mainstream build.
const TICKS_PER_SECOND = 100;

/** CPU seconds used so far by a process, from /proc; undefined where /proc is not available. */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces), which ends at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

export interface CpuMeter {
  /** Cores used by the server and by this process since the meter started. */
  stop(): { serverCpu?: number; loadGeneratorCpu: number };
}

export function startCpuMeter(serverPid: number | undefined): CpuMeter {
  const wallStart = performance.now();
  const ownStart = process.cpuUsage();
  const serverStart = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
  return {
    stop() {
      const wallSec = (performance.now() - wallStart) / 1000;
      const own = process.cpuUsage(ownStart);
      const loadGeneratorCpu = (own.user + own.system) / 1e6 / wallSec;
      const serverEnd = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
      if (serverStart === undefined || serverEnd === undefined) return { loadGeneratorCpu };
      return { serverCpu: (serverEnd - serverStart) / wallSec, loadGeneratorCpu };
    },
  };
}
