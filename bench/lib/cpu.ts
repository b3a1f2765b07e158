import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's counters (USER_HZ). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU counters at one instant, in seconds. */
export interface CpuSample {
  /** Wall clock (performance.now()) in seconds. */
  at: number;
  /** Busy time of every core together: /proc/stat minus idle and iowait. */
  machineBusy: number;
  /** utime + stime of each watched process, by label. */
  processes: Record<string, number>;
  /** The harness itself: its own utime + stime, and the children it has reaped (cutime + cstime). */
  harnessSelf: number;
  harnessChildren: number;
}

/** utime, stime, cutime, cstime of a process in seconds (proc(5): fields 14-17). */
export function processTimes(pid: number | 'self'): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const tick = (n: number): number => Number(fields[n - 3]) / TICKS_PER_SECOND;
  return { self: tick(14) + tick(15), children: tick(16) + tick(17) };
}

/** Busy seconds of all cores since boot (proc(5): the `cpu` line of /proc/stat). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = values;
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

/** Reads every counter the accounting needs, for the processes given by label. */
export function sampleCpu(pids: Record<string, number>): CpuSample {
  const processes: Record<string, number> = {};
  for (const [label, pid] of Object.entries(pids)) processes[label] = processTimes(pid).self;
  const harness = processTimes('self');
  return { at: performance.now() / 1000, machineBusy: machineBusySeconds(), processes, harnessSelf: harness.self, harnessChildren: harness.children };
}

/** Resident memory of a process in MiB (VmRSS of /proc/PID/status). */
export function residentMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) / 1024;
}

/** The machine's CPU model and core count, for the results file. */
export function machineDescription(): { cpuModel: string; cpuCount: number } {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1] ?? 'unknown';
  const count = info.split('\n').filter((line) => line.startsWith('processor')).length;
  return { cpuModel: model.trim(), cpuCount: count };
}
