// Throwaway network namespaces for tests. Every test file gets its own
// uniquely named namespace and deletes it in afterAll, even on failure.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function uniqueNetnsName(prefix: string): string {
  return `vifdt-${prefix}-${randomBytes(3).toString('hex')}`.slice(0, 30);
}

export function createNetns(name: string): void {
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

export function deleteNetns(name: string): void {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/** Runs `ip -n NETNS ARGS...` and returns stdout. */
export function ipIn(netns: string, ...args: string[]): string {
  return execFileSync('ip', ['-n', netns, ...args], { encoding: 'utf8' });
}

export interface IpLinkJson {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  master?: string;
  address?: string;
  group?: string;
  ifalias?: string;
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string };
}

/** `ip -j -d link show` in the namespace, keyed by name. */
export function linksIn(netns: string): Map<string, IpLinkJson> {
  const list = JSON.parse(ipIn(netns, '-j', '-d', 'link', 'show')) as IpLinkJson[];
  return new Map(list.map((l) => [l.ifname, l]));
}
