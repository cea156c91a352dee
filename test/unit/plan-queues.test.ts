// Multi-queue taps: created with multi_queue (and owner/group when asked);
// a change of the flag replaces the tap; the XML asks for as many queues.
import { describe, expect, it } from 'vitest';
import { renderIpBatch } from '../../src/host/links/ip-batch.js';
import { parseDocumentValue } from '../../src/desired/parse.js';
import { resolveSpec } from '../../src/desired/spec.js';
import { DesiredStore } from '../../src/desired/store.js';
import type { ObservedLink } from '../../src/observed/links.js';
import { libvirtInterfaceXml } from '../../src/plan/libvirt-xml.js';
import { DEFAULT_OWNERSHIP, portAlias } from '../../src/model/ownership.js';
import { planLinks } from '../../src/plan/plan-links.js';

const P = '11111111-1111-4111-8111-111111111111';
const TAP = 'tap11111111-11';
const doc = (vif: Record<string, unknown>) => ({ apiVersion: 'vifd/v1', kind: 'PortBinding', port: P, mac: 'fa:16:3e:00:00:11', vif: { type: 'bridge', bridge: 'br1', ...vif } });
const tap = (multiQueue: boolean): ObservedLink => ({
  ifindex: 5, name: TAP, kind: 'tap', rawKind: 'tun', mtu: 1500, mac: 'fe:16:3e:00:00:11', up: true, master: 'br1',
  group: DEFAULT_OWNERSHIP.group, alias: portAlias(P), link: undefined, macvtapMode: undefined, persistent: true, multiQueue,
});
const bridge: ObservedLink = { ...tap(false), ifindex: 4, name: 'br1', kind: 'bridge', rawKind: 'bridge', master: undefined, alias: 'vifd:bridge', mac: undefined };
delete (bridge as { multiQueue?: boolean }).multiQueue;

function plan(vif: Record<string, unknown>, observed: ObservedLink[]) {
  const store = new DesiredStore();
  store.set('f', parseDocumentValue(doc(vif)));
  return planLinks({ keys: [P], desired: store.view(), links: { links: new Map(observed.map((l) => [l.name, l])) }, ownership: DEFAULT_OWNERSHIP });
}

describe('queues', () => {
  it('a new tap with queues > 1 is multi_queue, with the owner and group asked for', () => {
    const p = plan({ queues: 4, tapUser: 107, tapGroup: 115 }, [bridge]);
    const lines = renderIpBatch(p.actions, DEFAULT_OWNERSHIP).lines;
    expect(lines).toContain(`tuntap add dev ${TAP} mode tap multi_queue user 107 group 115`);
  });

  it('queues 1 (or none): a plain tap', () => {
    expect(renderIpBatch(plan({ queues: 1 }, [bridge]).actions, DEFAULT_OWNERSHIP).lines).toContain(`tuntap add dev ${TAP} mode tap`);
  });

  it('the multi_queue flag differs from the live tap: the tap is replaced', () => {
    const ops = plan({ queues: 2 }, [bridge, tap(false)]).actions.map((a) => `${a.op} ${a.name}`);
    expect(ops).toEqual(expect.arrayContaining([`delete-link ${TAP}`, `create-tap ${TAP}`]));
    expect(plan({}, [bridge, tap(true)]).actions.map((a) => a.op)).toEqual(expect.arrayContaining(['delete-link', 'create-tap']));
  });

  it('the flag matches: nothing to do', () => {
    expect(plan({ queues: 2 }, [bridge, tap(true)]).actions).toEqual([]);
    expect(plan({}, [bridge, tap(false)]).actions).toEqual([]);
  });

  it("libvirt gets <driver name='vhost' queues='N'/> only for N > 1", () => {
    const xml = (vif: Record<string, unknown>) => {
      const r = parseDocumentValue(doc(vif));
      if (!r.ok) throw new Error('invalid');
      return libvirtInterfaceXml(resolveSpec(r.bindings[0]!));
    };
    expect(xml({ queues: 8 })).toContain("<driver name='vhost' queues='8'/>");
    expect(xml({ queues: 1 })).not.toContain('<driver');
  });

  it.each([0, 257, 1.5])('queues %s is Invalid at vif.queues', (queues) => {
    const r = parseDocumentValue(doc({ queues }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems[0]?.path).toBe('vif.queues');
  });
});
