// 802.1Qbg VDP (VSI Discovery Protocol, ratified 2.2) through lldpad, using
// lldpad's own client `vdptool` (argv only). With `netns`, vdptool runs under
// `ip netns exec`: lldpad's control socket is an abstract unix socket, which
// belongs to a network namespace, so each namespace has its own lldpad.
import { setTimeout as sleep } from 'node:timers/promises';
import { UUID_ANY_CASE } from '../../lib/uuid.js';
import { execaGuarded, spawnFailure } from '../run.js';
import {
  LldpadNotRunningError, VdpCommandError, VdpRejectedError, VdptoolError, VdpTimeoutError,
} from './errors.js';
import { decodeVsiStatus, parseVdptoolOutput, type VdptoolOutput, type VdptoolVsi, type VsiStatus } from './vdptool-output.js';

export interface VsiProfile {
  /** VSI manager id, 1..255 (sent as mgrid2, which vdptool reads as hex:
   * `mgrid2=c` is manager 12, echoed back as `mgrid2 = 12`). */
  managerId: number;
  /** VSI type id, 0..16777215. */
  typeId: number;
  /** VSI type version, 0..255. */
  typeIdVersion: number;
  /** VSI instance id (UUID). */
  instanceId: string;
  mac: string;
  /** VLAN id of the filter; 0 (default) lets the switch choose. */
  vlan?: number;
}

export interface TextResult { exitCode: number | undefined; stdout: string; stderr: string; spawnError?: Error }
export type TextRunner = (file: string, args: string[]) => Promise<TextResult>;

export const execaTextRunner: TextRunner = async (file, args) => {
  const r = await execaGuarded(file, args, { reject: false, timeout: 60_000, stdin: 'ignore' });
  const spawnError = spawnFailure(r, String(r.stderr ?? ''));
  return { exitCode: spawnError ? undefined : r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), ...(spawnError ? { spawnError } : {}) };
};

export interface VdpOptions {
  netns?: string;
  /** vdptool binary (default "vdptool" from PATH). */
  vdptool?: string;
  runner?: TextRunner;
  /** Total time to wait for the bridge's answer (default 15 s; vdptool -W itself waits 5 s). */
  timeoutMs?: number;
  /** Query interval once vdptool -W returned without an answer (default 500 ms). */
  pollIntervalMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface VdpVsiState {
  mode: string | undefined;
  managerId: string | undefined;
  typeId: number | undefined;
  typeIdVersion: number | undefined;
  instanceId: string;
  filters: string[];
  status: VsiStatus | undefined;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/iu;

function intIn(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new TypeError(`${name} must be an integer in ${lo}..${hi}, got ${v}`);
}

/** The vdptool argv (without the program) for a set-vsi request. */
export function vdptoolSetArgs(uplink: string, mode: 'assoc' | 'deassoc' | 'preassoc' | 'preassoc-rr', p: VsiProfile): string[] {
  intIn('managerId', p.managerId, 1, 255);
  intIn('typeId', p.typeId, 0, 0xffffff);
  intIn('typeIdVersion', p.typeIdVersion, 0, 255);
  intIn('vlan', p.vlan ?? 0, 0, 4095);
  if (!UUID_ANY_CASE.test(p.instanceId)) throw new TypeError(`instanceId is not a UUID: ${p.instanceId}`);
  if (!MAC_RE.test(p.mac)) throw new TypeError(`bad MAC ${p.mac}`);
  return [
    '-i', uplink, '-T', '-W', '-V', mode, '-c', `mode=${mode}`, '-c', `mgrid2=${p.managerId.toString(16)}`, '-c', `typeid=${p.typeId}`,
    '-c', `typeidver=${p.typeIdVersion}`, '-c', `uuid=${p.instanceId.toLowerCase()}`, '-c', 'hints=none',
    '-c', `filter=${p.vlan ?? 0}-${p.mac.toLowerCase()}`,
  ];
}

interface Ran { out: VdptoolOutput; command: string[]; exitCode: number | undefined; stdout: string; stderr: string }

async function runVdptool(uplink: string, args: string[], opts: VdpOptions): Promise<Ran> {
  const tool = opts.vdptool ?? 'vdptool';
  const [file, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, tool, ...args]] : [tool, args];
  const command = [file, ...argv];
  const r = await (opts.runner ?? execaTextRunner)(file, argv);
  const fields = { uplink, command, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  if (r.spawnError || r.exitCode === undefined) throw new VdptoolError({ ...fields, cause: r.spawnError, reason: 'could not be run' });
  const out = parseVdptoolOutput(r.stdout, r.stderr);
  if (out.notConnected) throw new LldpadNotRunningError(fields);
  if (out.failed !== undefined) throw new VdpCommandError({ ...fields, answer: out.failed });
  if (r.exitCode !== 0) throw new VdptoolError({ ...fields, reason: `exited ${r.exitCode}` });
  return { out, ...fields };
}

function toState(v: VdptoolVsi, instanceId: string): VdpVsiState {
  return {
    mode: v.mode, managerId: v.mgrid2, typeId: v.typeid, typeIdVersion: v.typeidver, instanceId,
    filters: v.filters, status: v.hints === undefined ? undefined : decodeVsiStatus(v.hints),
  };
}

/** lldpad's view of one VSI on the uplink, or undefined when it has none (e.g. after a restart). */
export async function queryVdp(uplink: string, instanceId: string, opts: VdpOptions = {}): Promise<VdpVsiState | undefined> {
  const id = instanceId.toLowerCase();
  const { out } = await runVdptool(uplink, ['-i', uplink, '-t', '-V', 'assoc', '-c', `uuid=${id}`], opts);
  const v = out.vsis.find((x) => x.uuid === id);
  return v ? toState(v, id) : undefined;
}

async function request(uplink: string, mode: 'assoc' | 'deassoc' | 'preassoc' | 'preassoc-rr', p: VsiProfile, opts: VdpOptions): Promise<VdpVsiState | undefined> {
  const now = opts.now ?? Date.now;
  const wait = opts.sleep ?? ((ms: number) => sleep(ms));
  const timeout = opts.timeoutMs ?? 15_000;
  const started = now();
  const id = p.instanceId.toLowerCase();
  const ran = await runVdptool(uplink, vdptoolSetArgs(uplink, mode, p), opts);
  const base = { uplink, command: ran.command, exitCode: ran.exitCode, stdout: ran.stdout, stderr: ran.stderr };
  const resp = ran.out.responses.find((r) => r.uuid === id);
  if (resp) {
    if (resp.bridgeErrors.length) throw new VdpRejectedError({ ...base, answer: resp.bridgeErrors.join('; ') });
    if (resp.internalErrors.length) throw new VdpTimeoutError({ ...base, answer: resp.internalErrors.join('; '), waitedMs: now() - started });
    const wanted = mode === 'deassoc' ? 'deassoc' : mode;
    if (resp.mode !== wanted) throw new VdpRejectedError({ ...base, answer: `switch answered mode ${resp.mode ?? '?'} to ${mode}` });
    return toState(resp, id);
  }
  // vdptool stops listening after 5 s; lldpad keeps the request going. Ask it.
  let last: VdpVsiState | undefined;
  for (;;) {
    last = await queryVdp(uplink, id, opts);
    if (mode === 'deassoc' && !last) return undefined;
    if (!last) throw new VdpTimeoutError({ ...base, answer: 'lldpad dropped the VSI without an answer from the bridge', waitedMs: now() - started });
    const st = last.status;
    if (st && mode !== 'deassoc' && st.kind === 'associated') return last;
    if (st?.kind === 'rejected') throw new VdpRejectedError({ ...base, answer: st.text });
    if (st?.kind === 'timeout') throw new VdpTimeoutError({ ...base, answer: st.text, waitedMs: now() - started });
    if (now() - started >= timeout) break;
    await wait(opts.pollIntervalMs ?? 500);
  }
  throw new VdpTimeoutError({ ...base, answer: last.status?.text ?? 'no answer from the bridge', waitedMs: now() - started });
}

/**
 * Associates the VSI through lldpad and waits for the bridge's answer.
 * Throws LldpadNotRunningError, VdpCommandError (lldpad refused: unknown
 * device, VDP off), VdpRejectedError, VdpTimeoutError, VdptoolError.
 */
export async function associateVdp(uplink: string, profile: VsiProfile, opts: VdpOptions & { mode?: 'assoc' | 'preassoc' | 'preassoc-rr' } = {}): Promise<VdpVsiState> {
  const st = await request(uplink, opts.mode ?? 'assoc', profile, opts);
  return st!;
}

/** De-associates the VSI; resolves once the bridge answered or lldpad forgot the VSI. */
export async function disassociateVdp(uplink: string, profile: VsiProfile, opts: VdpOptions = {}): Promise<void> {
  await request(uplink, 'deassoc', profile, opts);
}
