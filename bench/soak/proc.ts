// What the soak reads of the daemon from outside, in /proc: resident memory,
// open file descriptors and child processes (direct children: the ip
// monitor and any ip/sync command running at that moment).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcSample {
  rssBytes: number;
  fds: number;
  children: number;
}

/** The parent pid from a /proc/<pid>/stat line (the comm field may hold spaces and parentheses). */
export function ppidOfStat(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/u.test(name)) continue;
    try {
      if (ppidOfStat(readFileSync(`/proc/${name}/stat`, 'utf8')) === pid) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/mu.exec(status)?.[1] ?? NaN);
    return { rssBytes: rssKb * 1024, fds: readdirSync(`/proc/${pid}/fd`).length, children: childrenOf(pid).length };
  } catch {
    return undefined;
  }
}
