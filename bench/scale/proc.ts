// What the benchmark reads of a process (and of the machine) in /proc.
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = 100; // USER_HZ on Linux/x86

function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time in ms: utime + stime of the process (all its threads), plus
 * cutime + cstime (children it has waited for: the commands it spawned).
 * Resolution 10 ms (clock ticks). */
export function cpuMs(pid: number): { self: number; children: number; total: number } {
  const f = statFields(pid);
  // After the ")": state=0, ppid=1, ..., utime=11, stime=12, cutime=13, cstime=14.
  const self = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  const children = ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
  return { self, children, total: self + children };
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/mu.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** The `processes` line of /proc/stat: forks (every new task) on the whole machine since boot. */
export function machineForks(): number {
  const m = /^processes (\d+)$/mu.exec(readFileSync('/proc/stat', 'utf8'));
  return Number(m?.[1] ?? NaN);
}

/** Open fds, and inotify watches over all its inotify fds (fdinfo `inotify wd:` lines). */
export function fdsAndWatches(pid: number): { fds: number; inotifyWatches: number } {
  const fds = readdirSync(`/proc/${pid}/fd`);
  let inotifyWatches = 0;
  for (const fd of fds) {
    try {
      const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
      for (const line of info.split('\n')) if (line.startsWith('inotify wd:')) inotifyWatches++;
    } catch {
      // closed meanwhile
    }
  }
  return { fds: fds.length, inotifyWatches };
}

/** The limits 5000 bindings could meet: fds of the process, inotify watches per user. */
export function limitsOf(pid: number): { maxFds: number; maxUserWatches: number } {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const maxFds = Number(/^Max open files\s+(\d+)/mu.exec(limits)?.[1] ?? NaN);
  const maxUserWatches = Number(readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim());
  return { maxFds, maxUserWatches };
}
