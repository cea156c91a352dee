// The controller as the API sees it (api.ts's ReconcileControl), adapted
// from the Reconciler at the composition root, so the API depends on that
// narrow interface and never on the Reconciler or its queue.
import type { ReconcileControl } from '../api/api.js';
import type { Reconciler } from '../reconcile/reconciler.js';

export function apiControlOf(reconciler: Reconciler): ReconcileControl {
  return {
    desiredChanged: (ports) => reconciler.desiredChanged(ports),
    statusList: () => reconciler.statusList(),
    summary: () => reconciler.summary(),
    invalidDocuments: () => reconciler.invalidDocuments(),
    queueDepth: () => reconciler.queue.depth,
    onStatus: (listener) => reconciler.onStatus(listener),
    onRound: (listener) => reconciler.onRound(listener),
  };
}
