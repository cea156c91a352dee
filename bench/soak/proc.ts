// What the soak reads of the daemon from outside, in /proc: resident memory,
// open file descriptors and child processes (direct children: the ip
// monitor and any ip/sync command running at that moment).
import { readdirSync, readFileSync } from 'node:fs';
import { childrenOf } from '../../test/support/procs.js';

export interface ProcSample {
  rssBytes: number;
  fds: number;
  children: number;
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
