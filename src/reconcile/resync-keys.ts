// Which keys a resync queues. At start, or when the host's snapshots do not
// cover its events (an `ip` dump per round), every desired or owned key and
// every status file. With the event-fed link model, the resync's dump was
// compared with the model and whatever differs came back as events; so only
// what is not settled needs a look: bindings not Ready or not of their
// current generation, devices of ports nothing desires, unused shared
// bridges, invalid-only ports not reported yet, status files of ports
// nothing desires, associations left to undo.
import type { HostSnapshot } from '../host/host.js';
import type { BindingStatus } from '../model/status.js';
import { parseWorkKey, type WorkKey } from '../model/work-key.js';
import { allKeys, type PlanContext } from '../plan/plan.js';

export interface ResyncInput {
  everything: boolean;
  snapshot: HostSnapshot;
  context: PlanContext;
  book: { get(port: string): BindingStatus | undefined; ports(): Iterable<string> };
  associationPorts: Iterable<string>;
}

export function resyncKeys({ everything, snapshot, context, book, associationPorts }: ResyncInput): Set<WorkKey> {
  const { desired } = context;
  const all = allKeys(snapshot, context);
  const keys = everything ? all : new Set<WorkKey>();
  if (!everything) {
    for (const key of all) {
      const parsed = parseWorkKey(key);
      if (parsed.kind === 'link') {
        // A device vifd keeps for itself: a shared bridge still in use is
        // looked after by its users' rounds; an unused one (its last user had
        // a hypervisor's tap, so no event named it) goes now.
        if (!(desired.bridgeUsers.get(parsed.name)?.size)) keys.add(key);
        continue;
      }
      if (parsed.kind === 'ovs-bridge') {
        keys.add(key);
        continue;
      }
      const binding = desired.bindings.get(key);
      const status = book.get(key);
      if (!binding || status?.phase !== 'Ready' || status.observedGeneration !== binding.generation) keys.add(key);
    }
    for (const [port, invalid] of desired.invalidOnly) if (book.get(port)?.observedGeneration !== invalid.generation) keys.add(port);
  }
  for (const port of book.ports()) if (everything || !desired.bindings.has(port)) keys.add(port); // stale status files get settled too
  for (const port of associationPorts) keys.add(port);
  return keys;
}
