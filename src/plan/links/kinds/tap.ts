// A tap vifd makes for a VM (single- or multi-queue, owned by a user/group).
import type { DesiredPortLink } from '../../../desired/spec.js';
import type { LinkSettings } from '../../../model/actions.js';
import { mtuSetting, type LinkKindPlanner } from './kind.js';

type Tap = Extract<DesiredPortLink, { kind: 'tap' }>;

export const tapPlanner: LinkKindPlanner<Tap> = {
  create: (port, desired) => ({
    op: 'create-tap',
    key: port,
    name: desired.name,
    ...(desired.queues !== undefined ? { multiQueue: true } : {}),
    ...(desired.user !== undefined ? { user: desired.user } : {}),
    ...(desired.group !== undefined ? { group: desired.group } : {}),
  }),
  settings: (desired, current) => {
    const settings: LinkSettings = {};
    if (desired.mac && current?.mac !== desired.mac) settings.mac = desired.mac;
    return { ...settings, ...mtuSetting(desired.mtu, current) };
  },
  master: (desired) => desired.master,
};
