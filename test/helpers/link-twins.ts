// Twin namespaces for differential tests of the netlink link runner against
// `ip -force -batch`: namespaces holding the same fixture (a veth up0/up1 as a
// macvtap lower, a bridge fb0 vifd did not make), ip's batch as the
// reference, and `ip -j -d link show` normalized for comparison.
import { execFileSync } from 'node:child_process';
import { LinkActionError } from '../../src/errors/host-errors.js';
import { Ip } from '../../src/host/ip.js';
import { linkCreations, parseLinkLine } from '../../src/host/netlink/link-lines.js';

/** Every namespace made here, for the test file's afterAll to delete. */
export const twinNamespaces: string[] = [];

export function makeNetns(name: string): void {
  twinNamespaces.push(name);
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, '-batch', '-'], { input: 'link set lo up\nlink add up0 type veth peer name up1\nlink add fb0 type bridge\n' });
}

/** `ip -force -batch`, with one defect of its own left out. ip caches
 * name → ifindex and drops an entry only when a line using it succeeds
 * (ll_drop_by_index), so after a failed line a name deleted and created again
 * later in the batch goes out with its dead index ("RTNETLINK answers: No
 * such device"). The runner has the kernel look names up and does not share
 * it; so the reference starts a fresh ip before a line creates a name the
 * running one has already looked up. Line numbers are the whole batch's. */
export async function ipReference(ns: string, lines: readonly string[]): Promise<LinkActionError[]> {
  const errors: LinkActionError[] = [];
  let start = 0;
  let seen = new Set<string>();
  const run = async (end: number) => {
    for (const e of await new Ip(ns).batch(lines.slice(start, end))) {
      errors.push(e.lineNumber === 0 ? e : new LinkActionError({ line: e.line, lineNumber: e.lineNumber + start, message: e.reason }));
    }
    start = end;
    seen = new Set();
  };
  for (const [i, line] of lines.entries()) {
    if (creationsOf(line).some((name) => seen.has(name))) await run(i);
    for (const name of line.split(' ').filter((_, k, w) => ['dev', 'name', 'master', 'link'].includes(w[k - 1] ?? ''))) seen.add(name);
  }
  await run(lines.length);
  return errors;
}

function creationsOf(line: string): string[] {
  try {
    return linkCreations(parseLinkLine(line));
  } catch {
    return []; // a line outside the vocabulary creates nothing in either
  }
}

// What differs between twins for reasons other than the lines: indexes, the
// kernel's random MACs (the lines here set 02:00:00:… ones), timers, carrier and STP
// port states that settle on their own time.
const DROPPED = new Set(['ifindex', 'link_index', 'operstate', 'state']);
const SETTLING_FLAGS = new Set(['LOWER_UP', 'NO-CARRIER', 'M-DOWN']);
const RANDOM_MAC = /(?<![0-9a-f:])(?!02:00:00:)[0-9a-f]{1,2}(?::[0-9a-f]{1,2}){5}(?![0-9a-f:])/giu;

function normalize(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(RANDOM_MAC, '<mac>');
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value)
      .filter(([k]) => !DROPPED.has(k) && !k.endsWith('timer'))
      .map(([k, v]) => [k, k === 'flags' ? (v as string[]).filter((f) => !SETTLING_FLAGS.has(f)) : normalize(v)]));
  }
  return value;
}

export function links(ns: string): unknown[] {
  const list = JSON.parse(execFileSync('ip', ['-n', ns, '-j', '-d', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[];
  return list.sort((a, b) => a.ifname.localeCompare(b.ifname)).map(normalize);
}

