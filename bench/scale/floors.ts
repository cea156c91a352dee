// The floors, measured in the same run as vifd, in a scratch namespace:
// - cold: one `ip -force -batch` creating the row's whole device set (bridges,
//   taps marked and enslaved, up; hybrid: qbr + veth pair + tap per port, then
//   one ovs-vsctl transaction adding every qvo to a private OVS);
// - one repair: delete one tap (not timed), then one `ip -batch` recreating
//   it marked, enslaved and up, spawn of `ip` included; repeated, p50;
// - one add: a new binding's devices by one `ip -batch` (hybrid: then one
//   ovs-vsctl transaction adding its qvo, which waits for ovs-vswitchd as
//   vifd does), spawns included; repeated, p50.
import { execFileSync } from 'node:child_process';
import { createNetns } from '../../test/helpers/netns.js';
import { startOvs, stopOvs, vsctl, type PrivateOvs } from '../../test/helpers/ovs.js';
import { onCleanup } from './cleanup.js';
import { median } from './stats.js';
import { coldLines, coldVsctlArgs, deleteNamespace, ipBatch, links, OVS_BRIDGE, portLines, portVsctlArgs, repairLines, tapOf, tapsWrong, type RowSpec } from './topology.js';

export interface Floors {
  coldMs: number;
  /** The ip batch alone, and (hybrid) the OVS transaction. */
  coldIpMs: number;
  coldOvsMs: number;
  repairMs: number;
  repairSamples: number[];
  /** One new binding's devices (and OVS port), p50. */
  addMs: number;
}

export function measureFloors(spec: RowSpec, netns: string, repairs: number, adds: number): Floors {
  let ovs: PrivateOvs | undefined;
  const dropNs = onCleanup(`netns ${netns}`, () => deleteNamespace(netns));
  const dropOvs = onCleanup(`private OVS for ${netns}`, () => stopOvs(ovs));
  try {
    createNetns(netns);
    let coldOvsMs = 0;
    if (spec.kind === 'ovs') {
      ovs = startOvs(netns);
      vsctl(ovs, 'add-br', OVS_BRIDGE, '--', 'set', 'bridge', OVS_BRIDGE, 'datapath_type=netdev');
    }
    const coldIpMs = ipBatch(netns, coldLines(spec), true);
    if (ovs) {
      const t = performance.now();
      execFileSync('ovs-vsctl', [`--db=${ovs.address}`, '--timeout=60', ...coldVsctlArgs(spec)], { stdio: 'ignore' });
      coldOvsMs = performance.now() - t;
    }
    const wrong = tapsWrong(spec, links(netns));
    if (wrong.length > 0) throw new Error(`floor batch left ${wrong.length} taps wrong (${wrong.slice(0, 3).join(', ')})`);
    const samples: number[] = [];
    for (let k = 0; k < repairs; k++) {
      const i = (k * 7919) % spec.n;
      execFileSync('ip', ['-n', netns, 'link', 'del', tapOf(spec.kind, i)]);
      samples.push(ipBatch(netns, repairLines(spec, i)));
    }
    const stillWrong = tapsWrong(spec, links(netns));
    if (stillWrong.length > 0) throw new Error(`floor repairs left ${stillWrong.length} taps wrong`);
    const addSamples: number[] = [];
    for (let k = 0; k < adds; k++) {
      const i = spec.n + k;
      let ms = ipBatch(netns, portLines(spec, i));
      if (ovs) {
        const t = performance.now();
        execFileSync('ovs-vsctl', [`--db=${ovs.address}`, '--timeout=60', ...portVsctlArgs(i)], { stdio: 'ignore' });
        ms += performance.now() - t;
      }
      addSamples.push(ms);
    }
    if (tapsWrong(spec, links(netns), spec.n + adds).length > 0) throw new Error('floor adds left taps wrong');
    return { coldMs: coldIpMs + coldOvsMs, coldIpMs, coldOvsMs, repairMs: median(samples), repairSamples: samples, addMs: median(addSamples) };
  } finally {
    dropOvs();
    dropNs();
  }
}
