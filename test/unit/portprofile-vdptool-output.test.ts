// The vdptool output parser on output captured from lldpad 1.1 (Debian) in
// two namespaces (station + evbmode=bridge), see test/fixtures/portprofile-vdptool-*.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeVsiStatus, parseVdptoolOutput } from '../../src/host/portprofile/vdptool-output.js';
import { associateVdp, disassociateVdp, queryVdp, type TextResult, vdptoolSetArgs } from '../../src/host/portprofile/vdp.js';

const fx = (name: string) => readFileSync(new URL(`../fixtures/portprofile-vdptool-${name}.txt`, import.meta.url), 'utf8');
const UUID = '3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f';
const profile = { managerId: 5, typeId: 1234, typeIdVersion: 1, instanceId: UUID, mac: 'FA:16:3E:5D:12:7A' };

describe('parseVdptoolOutput (captured output)', () => {
  it('an accepted association (-T -W)', () => {
    const out = parseVdptoolOutput(fx('assoc-ok'));
    expect(out).toMatchObject({ notConnected: false, vsis: [], other: [] });
    expect(out.failed).toBeUndefined();
    expect(out.responses).toEqual([{
      mode: 'assoc', mgrid2: '5', typeid: 1234, typeidver: 1, uuid: UUID, filters: ['0-fa:16:3e:5d:12:7a'], bridgeErrors: [], internalErrors: [],
    }]);
  });

  it('an accepted de-association', () => {
    expect(parseVdptoolOutput(fx('deassoc-ok')).responses[0]).toMatchObject({ mode: 'deassoc', uuid: UUID, internalErrors: [] });
  });

  it('a request the bridge never acknowledged: lldpad answers deassoc + "Ack not received from bridge"', () => {
    const r = parseVdptoolOutput(fx('assoc-ackto')).responses[0];
    expect(r).toMatchObject({ mode: 'deassoc', uuid: UUID, internalErrors: ['Ack not received from bridge'], bridgeErrors: [] });
    expect(r!.hints).toBeUndefined();
  });

  it('a query: hints carries the status word', () => {
    const out = parseVdptoolOutput(fx('query-assoc'));
    expect(out.vsis).toEqual([{
      mode: 'assoc', mgrid2: '5', typeid: 1234, typeidver: 1, uuid: UUID, hints: 0, filters: ['0-fa:16:3e:5d:12:7a'], bridgeErrors: [], internalErrors: [],
    }]);
    expect(parseVdptoolOutput(fx('query-empty'))).toMatchObject({ vsis: [], responses: [], other: [] });
  });

  it('lldpad refusing the command', () => {
    expect(parseVdptoolOutput(fx('failed-device')).failed).toBe('Device not found or inactive');
    expect(parseVdptoolOutput(fx('failed-params')).failed).toBe('Invalid parameters');
  });

  it('no lldpad', () => {
    expect(parseVdptoolOutput('', fx('not-running')).notConnected).toBe(true);
  });

  it('a bridge error line (format from vdptool.c print_vsi_err_msg; lldpad\'s bridge simulator never rejects)', () => {
    const out = parseVdptoolOutput('Response from VDP\n\tmode = deassoc\n\tuuid = 3F2A8C71-5B0E-4D2A-9C3E-7A1B2C3D4E5F\n\tError returned by Bridge: Insufficient resources at bridge\n\tfilter = 0-fa:16:3e:5d:12:7a\n');
    expect(out.responses[0]).toMatchObject({ uuid: UUID, bridgeErrors: ['Insufficient resources at bridge'] });
  });
});

describe('decodeVsiStatus', () => {
  it('decodes (smi_err << 8) | response as lldpad/vdptool do', () => {
    expect(decodeVsiStatus(0)).toEqual({ kind: 'associated', code: 0, text: 'Successful' });
    expect(decodeVsiStatus(255)).toMatchObject({ kind: 'pending' });
    expect(decodeVsiStatus(767)).toEqual({ kind: 'timeout', code: 767, text: 'Ack not received from bridge' }); // seen in lldpad's log
    expect(decodeVsiStatus(768)).toMatchObject({ kind: 'timeout', text: 'Keepalive Timeout; Ack not received from bridge' });
    expect(decodeVsiStatus(2)).toEqual({ kind: 'rejected', code: 2, text: 'Insufficient resources at bridge' });
    expect(decodeVsiStatus(252)).toMatchObject({ kind: 'rejected', text: 'Deassoc received from switch' });
  });
});

describe('vdp.ts over a fake vdptool', () => {
  const ok = (stdout: string): TextResult => ({ exitCode: 0, stdout, stderr: '' });

  it('builds the vdptool argv, under ip netns exec', async () => {
    const calls: string[][] = [];
    await associateVdp('eth1', { ...profile, vlan: 100 }, { netns: 'ns1', runner: async (f, a) => { calls.push([f, ...a]); return ok(fx('assoc-ok')); } });
    expect(calls[0]).toEqual(['ip', 'netns', 'exec', 'ns1', 'vdptool', '-i', 'eth1', '-T', '-W', '-V', 'assoc', '-c', 'mode=assoc', '-c', 'mgrid2=5',
      '-c', 'typeid=1234', '-c', 'typeidver=1', '-c', `uuid=${UUID}`, '-c', 'hints=none', '-c', 'filter=100-fa:16:3e:5d:12:7a']);
    expect(() => vdptoolSetArgs('eth1', 'assoc', { ...profile, managerId: 0 })).toThrow(/managerId/u);
  });

  it('sends the manager id in hex, as vdptool reads mgrid2 (lldpad echoed mgrid2=c back as 12)', () => {
    expect(vdptoolSetArgs('eth1', 'assoc', { ...profile, managerId: 12 })).toContain('mgrid2=c');
    expect(vdptoolSetArgs('eth1', 'assoc', { ...profile, managerId: 255 })).toContain('mgrid2=ff');
  });

  it('maps each real answer to its typed error', async () => {
    const run = (r: TextResult) => associateVdp('eth1', profile, { runner: async () => r }).catch((e: unknown) => e);
    expect(await run(ok(fx('assoc-ackto')))).toMatchObject({ code: 'VDP_TIMEOUT', answer: 'Ack not received from bridge', uplink: 'eth1' });
    expect(await run({ exitCode: 1, stdout: fx('failed-device'), stderr: '' })).toMatchObject({ code: 'VDP_COMMAND_FAILED', answer: 'Device not found or inactive', exitCode: 1 });
    const nr = await run({ exitCode: 255, stdout: '', stderr: fx('not-running') });
    expect(nr).toMatchObject({ code: 'LLDPAD_NOT_RUNNING', exitCode: 255, command: ['vdptool', ...vdptoolSetArgs('eth1', 'assoc', profile)] });
    expect((nr as { stderrTail: string }).stderrTail).toMatch(/clif_open/u);
    expect(await run({ exitCode: undefined, stdout: '', stderr: '', spawnError: new Error('spawn vdptool ENOENT') })).toMatchObject({ code: 'VDPTOOL_FAILED' });
    expect(await run(ok(fx('assoc-ok').replace('mode = assoc', 'mode = deassoc')))).toMatchObject({ code: 'VDP_REJECTED' });
  });

  it('no answer within vdptool\'s 5 s: asks lldpad until associated, pending too long, or dropped', async () => {
    let t = 0;
    const clock = { now: () => t, sleep: async (ms: number) => { t += ms; } };
    const seq = ['', fx('query-assoc').replace('hints = 0', 'hints = 255'), fx('query-assoc')];
    const st = await associateVdp('eth1', profile, { ...clock, runner: async () => ok(seq.shift() ?? '') });
    expect(st.status?.kind).toBe('associated');
    expect(t).toBe(500);

    const pending = fx('query-assoc').replace('hints = 0', 'hints = 255');
    const err = await associateVdp('eth1', profile, { ...clock, timeoutMs: 3000, runner: async (_f, a) => ok(a.includes('-T') ? '' : pending) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VDP_TIMEOUT', answer: 'No response from the bridge so far' });

    const dropped = await associateVdp('eth1', profile, { ...clock, runner: async () => ok('') }).catch((e: unknown) => e);
    expect(dropped).toMatchObject({ code: 'VDP_TIMEOUT', answer: 'lldpad dropped the VSI without an answer from the bridge' });
  });

  it('disassociate succeeds on the answer or once lldpad forgot the VSI; query finds the VSI by uuid', async () => {
    await disassociateVdp('eth1', profile, { runner: async () => ok(fx('deassoc-ok')) });
    await disassociateVdp('eth1', profile, { runner: async () => ok('') });
    expect(await queryVdp('eth1', UUID.toUpperCase(), { runner: async () => ok(fx('query-assoc')) })).toMatchObject({ instanceId: UUID, status: { kind: 'associated' } });
    expect(await queryVdp('eth1', UUID, { runner: async () => ok(fx('query-empty')) })).toBeUndefined();
  });
});
