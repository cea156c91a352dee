// Create-or-fix for one of a binding's own links: the steps every kind of
// device shares, with the kind's planner (kinds/) asked for what differs.
import type { BindingSpec, DesiredPortLink } from '../../desired/spec.js';
import type { LinkSettings } from '../../model/actions.js';
import { linkKey } from '../../model/work-key.js';
import { portAlias } from '../../model/ownership.js';
import { plannerFor } from './kinds/index.js';
import type { LinkRound } from './round.js';
import { sameKind } from './same-kind.js';
import type { KeyOutcome } from './types.js';

export function ensureLink(r: LinkRound, spec: BindingSpec, desired: DesiredPortLink): KeyOutcome | undefined {
  const kind = plannerFor(desired);
  const port = spec.port;
  const link = r.links.get(desired.name);
  const marks = { group: r.input.ownership.group, alias: portAlias(port) };
  if (link && !r.own.isOurs(link, port)) return r.own.foreignConflict(link);
  const missing = kind.prerequisites?.(r, port, desired);
  if (missing) return missing;
  const recreate = link !== undefined && !sameKind(desired, link);
  if (link && recreate) {
    const kept = r.deleteOnce(port, link, `is a ${link.kind}, must be a ${desired.kind}`);
    if (kept) return { state: 'blocked', message: `device ${desired.name} cannot be made: ${kept}` };
  }
  if (!link || recreate) {
    const taken = kind.freeNames?.(r, port, desired, link);
    if (taken) return taken;
  }
  const current = link && !recreate ? link : undefined;
  if (!current) r.push(kind.create(port, desired, marks));

  const settings: LinkSettings = {};
  if (!current || current.group !== marks.group || current.alias !== marks.alias) Object.assign(settings, marks);
  Object.assign(settings, kind.settings(desired, current));
  const master = kind.master?.(desired);
  if (master !== undefined && current?.master !== master) settings.master = master;
  if (master === undefined && current?.master && r.links.get(current.master)?.kind === 'bridge') settings.master = null;
  // Leaving a bridge may leave it unused: have it looked at after this round.
  if (settings.master !== undefined && current?.master) r.followUps.add(linkKey(current.master));
  const wantUp = kind.up?.(r, port) ?? true;
  if ((current?.up ?? false) !== wantUp) settings.up = wantUp;
  r.setOnce(port, desired.name, settings, current ? 'repair' : 'new');
  kind.companions?.(r, port, desired, current, marks);
  return undefined;
}
