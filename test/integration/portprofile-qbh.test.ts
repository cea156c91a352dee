// 802.1Qbh against the real kernel: a veth end as the uplink in a throwaway
// namespace. veth has no ndo_set_vf_port, so the kernel answers EOPNOTSUPP,
// which must come back as the typed PortProfileUnsupportedError.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, ipIn, uniqueNetnsName } from '../helpers/netns.js';
import { NetlinkHelperError, PortProfileNetlinkError, PortProfileUnsupportedError } from '../../src/host/portprofile/errors.js';
import { defaultHelperPath } from '../../src/host/portprofile/netlink-helper.js';
import { associateQbh, disassociateQbh, queryQbh } from '../../src/host/portprofile/qbh.js';

const NS = uniqueNetnsName('qbh');
const PORT = {
  uplink: 'vup0',
  profileId: 'vifd-test-profile',
  instanceUuid: 'b1e2c3d4-0000-4000-8000-000000000001',
  hostUuid: '11111111-2222-4333-8444-555555555555',
};

beforeAll(() => {
  if (!existsSync(defaultHelperPath())) execFileSync('sh', ['native/build.sh'], { stdio: 'inherit' });
  createNetns(NS);
  ipIn(NS, 'link', 'add', 'vup0', 'type', 'veth', 'peer', 'name', 'vup0p');
  ipIn(NS, 'link', 'set', 'vup0', 'up');
  ipIn(NS, 'link', 'set', 'vup0p', 'up');
});

afterAll(() => deleteNetns(NS));

describe('802.1Qbh on a veth uplink (real kernel)', () => {
  it('associate is answered EOPNOTSUPP, as PORT_PROFILE_UNSUPPORTED', async () => {
    const err = await associateQbh(PORT, { netns: NS }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortProfileUnsupportedError);
    const e = err as PortProfileUnsupportedError;
    expect(e.code).toBe('PORT_PROFILE_UNSUPPORTED');
    expect(e.uplink).toBe('vup0');
    expect(e.errno).toBe(95);
    expect(e.message).toMatch(/does not support port profiles/u);
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('the VF form (IFLA_VF_PORTS) is refused the same way', async () => {
    const err = await associateQbh({ ...PORT, vf: 0 }, { netns: NS }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortProfileUnsupportedError);
  });

  it('disassociate too', async () => {
    await expect(disassociateQbh(PORT, { netns: NS })).rejects.toMatchObject({ code: 'PORT_PROFILE_UNSUPPORTED', errno: 95 });
  });

  it('the link reports no port state (no IFLA_PORT_SELF)', async () => {
    expect(await queryQbh('vup0', undefined, { netns: NS })).toBeUndefined();
  });

  it('a missing uplink is ENODEV, not "unsupported"', async () => {
    const err = await associateQbh({ ...PORT, uplink: 'nosuch0' }, { netns: NS }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortProfileNetlinkError);
    expect(err).toMatchObject({ code: 'PORT_PROFILE_NETLINK_ERROR', errnoName: 'ENODEV', uplink: 'nosuch0' });
  });

  it('a missing namespace is a helper error with the helper exit code', async () => {
    const err = await associateQbh(PORT, { netns: `${NS}-gone` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkHelperError);
    expect(err).toMatchObject({ code: 'NETLINK_HELPER_FAILED', exitCode: 3 });
    expect((err as NetlinkHelperError).stderrTail).toMatch(/open netns/u);
  });
});
