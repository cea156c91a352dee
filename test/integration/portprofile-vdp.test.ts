// 802.1Qbg VDP end to end with two private lldpads: a station and an
// evbmode=bridge lldpad in two throwaway namespaces joined by a veth. Plus
// the failures lldpad really answers: no lldpad, unknown device, and a
// station whose link has no bridge behind it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, uniqueNetnsName } from '../helpers/netns.js';
import { configureEvb, type PrivateLldpad, startLldpad, stopLldpad, waitForEvbNeighbor } from '../helpers/lldpad.js';
import { LldpadNotRunningError, VdpCommandError, VdpTimeoutError } from '../../src/host/portprofile/errors.js';
import { associateVdp, disassociateVdp, queryVdp, type VsiProfile } from '../../src/host/portprofile/vdp.js';

const STA = uniqueNetnsName('vdps');
const BR = uniqueNetnsName('vdpb');
const BR2 = uniqueNetnsName('vdpg');
const LONE = uniqueNetnsName('vdpn');
const dir = mkdtempSync(join(tmpdir(), 'vifdt-vdp-'));
let station: PrivateLldpad | undefined;
let bridge: PrivateLldpad | undefined;
let goneBridge: PrivateLldpad | undefined;

const profile: VsiProfile = {
  managerId: 5, typeId: 1234, typeIdVersion: 1, instanceId: '3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f', mac: 'fa:16:3e:5d:12:7a',
};

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

beforeAll(async () => {
  for (const ns of [STA, BR, BR2, LONE]) createNetns(ns);
  // vs0 (station) <-> vb0 (bridge lldpad)
  // vs1 (station) <-> vg1 (a bridge lldpad that is stopped once EVB is up)
  // vs2 (station) <-> vn2 (no lldpad behind it at all)
  ip('-n', STA, 'link', 'add', 'vs0', 'type', 'veth', 'peer', 'name', 'vb0', 'netns', BR);
  ip('-n', STA, 'link', 'add', 'vs1', 'type', 'veth', 'peer', 'name', 'vg1', 'netns', BR2);
  ip('-n', STA, 'link', 'add', 'vs2', 'type', 'veth', 'peer', 'name', 'vn2', 'netns', LONE);
  for (const [ns, dev] of [[STA, 'vs0'], [STA, 'vs1'], [STA, 'vs2'], [BR, 'vb0'], [BR2, 'vg1'], [LONE, 'vn2']] as const) {
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
  station = await startLldpad(STA, dir, 'station');
  bridge = await startLldpad(BR, dir, 'bridge');
  goneBridge = await startLldpad(BR2, dir, 'bridge2');
  configureEvb(BR, 'vb0', 'bridge');
  configureEvb(BR2, 'vg1', 'bridge', { vdprwd: 14 });
  configureEvb(STA, 'vs0', 'station');
  // vdprwd=14 (10 us * 2^14): an unanswered request is given up after ~0.2 s,
  // not ~10 s (the station uses the larger of its own and the bridge's value).
  configureEvb(STA, 'vs1', 'station', { vdprwd: 14 });
  configureEvb(STA, 'vs2', 'station', { vdprwd: 14 });
  // Both ends must have applied the negotiated EVB values (see waitForEvbNeighbor).
  await waitForEvbNeighbor(STA, 'vs0', 'bridge');
  await waitForEvbNeighbor(BR, 'vb0', 'station');
  await waitForEvbNeighbor(STA, 'vs1', 'bridge');
  await waitForEvbNeighbor(BR2, 'vg1', 'station');
  // The switch goes silent; the station keeps its EVB neighbour info (TTL 120 s).
  await stopLldpad(goneBridge);
}, 60_000);

afterAll(async () => {
  await stopLldpad(station);
  await stopLldpad(bridge);
  await stopLldpad(goneBridge);
  for (const ns of [STA, BR, BR2, LONE]) deleteNetns(ns);
  if (!process.env["VIFDT_KEEP"]) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
});

describe('VDP through lldpad (station + evbmode=bridge lldpad)', () => {
  it('each lldpad is private to its namespace', () => {
    const pidIn = (ns: string) => execFileSync('ip', ['netns', 'exec', ns, 'vdptool', '-p'], { encoding: 'utf8' }).trim();
    expect(pidIn(STA)).toBe(String(station!.pid));
    expect(pidIn(BR)).toBe(String(bridge!.pid));
  });

  it('associates a VSI end to end and lldpad reports it associated', async () => {
    const st = await associateVdp('vs0', profile, { netns: STA });
    expect(st).toMatchObject({ mode: 'assoc', managerId: '5', typeId: 1234, typeIdVersion: 1, instanceId: profile.instanceId, filters: ['0-fa:16:3e:5d:12:7a'] });
    const q = await queryVdp('vs0', profile.instanceId, { netns: STA });
    expect(q?.status).toEqual({ kind: 'associated', code: 0, text: 'Successful' });
  });

  it('disassociates it, after which lldpad no longer knows the VSI', async () => {
    await disassociateVdp('vs0', profile, { netns: STA });
    expect(await queryVdp('vs0', profile.instanceId, { netns: STA })).toBeUndefined();
  });

  it('a bridge that stopped answering: VDP_TIMEOUT with lldpad\'s answer', async () => {
    const err = await associateVdp('vs1', { ...profile, instanceId: 'b1e2c3d4-0000-4000-8000-000000000009' }, { netns: STA }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VdpTimeoutError);
    expect(err).toMatchObject({ code: 'VDP_TIMEOUT', uplink: 'vs1', answer: 'Ack not received from bridge' });
  });

  it('a station link with no EVB bridge at all: lldpad still sends, and times out the same way', async () => {
    const err = await associateVdp('vs2', profile, { netns: STA }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VdpTimeoutError);
    expect(err).toMatchObject({ code: 'VDP_TIMEOUT', uplink: 'vs2', answer: 'Ack not received from bridge' });
  });

  it('an interface lldpad does not know: VDP_COMMAND_FAILED "Device not found or inactive"', async () => {
    const err = await associateVdp('nosuch0', profile, { netns: STA }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VdpCommandError);
    expect(err).toMatchObject({ code: 'VDP_COMMAND_FAILED', answer: 'Device not found or inactive', exitCode: 1 });
  });

  it('no lldpad in the namespace: LLDPAD_NOT_RUNNING', async () => {
    const err = await associateVdp('vn2', profile, { netns: LONE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LldpadNotRunningError);
    expect(err).toMatchObject({ code: 'LLDPAD_NOT_RUNNING', exitCode: 255 });
    expect((err as LldpadNotRunningError).stderrTail).toMatch(/Failed to connect to lldpad/u);
  });

  it('after an lldpad restart the association is gone (the caller must redo it)', async () => {
    await associateVdp('vs0', profile, { netns: STA });
    await stopLldpad(station);
    station = await startLldpad(STA, dir, 'station');
    await waitForEvbNeighbor(STA, 'vs0', 'bridge');
    await waitForEvbNeighbor(BR, 'vb0', 'station');
    expect(await queryVdp('vs0', profile.instanceId, { netns: STA })).toBeUndefined();
    const st = await associateVdp('vs0', profile, { netns: STA });
    expect(st.mode).toBe('assoc');
  });
});
