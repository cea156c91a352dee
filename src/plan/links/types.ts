// The link planner's input and output: what one planning pass over kernel
// links is given (desired × observed × ownership) and what it returns.
import type { DesiredView } from '../../desired/store.js';
import type { LinkSnapshot } from '../../observed/links.js';
import type { LinkAction } from '../../model/actions.js';
import type { WorkKey } from '../../model/work-key.js';
import type { OwnershipConfig } from '../../model/ownership.js';
import type { AssociationView } from '../../model/association.js';

export interface LinkPlanInput {
  keys: Iterable<WorkKey>;
  desired: DesiredView;
  links: LinkSnapshot;
  ownership: OwnershipConfig;
  /** Names from the intent journal: unmarked links by these names are ours. */
  adoptable?: ReadonlySet<string>;
  /** Ports whose port-profile association holds: only their macvtaps go up. */
  associated?: ReadonlySet<string>;
  /** Port-profile association state per port (what is in progress, what failed). */
  associations?: ReadonlyMap<string, AssociationView>;
}

export type KeyState =
  /** Host matches the desired state for this key. */
  | 'converged'
  /** Actions planned. */
  | 'changing'
  /** Nothing can be done until something outside vifd changes (message says what). */
  | 'blocked'
  /** A device name vifd needs is held by something vifd does not own. */
  | 'conflict'
  /** Links done; waiting on work that runs outside the rounds (a port-profile
   * association), which queues the key again when it finishes. */
  | 'waiting';

export interface KeyOutcome {
  state: KeyState;
  message?: string;
  /** waiting: the last attempt failed (it is retried with backoff). */
  failed?: boolean;
}

export interface LinkPlan {
  actions: LinkAction[];
  outcomes: Map<WorkKey, KeyOutcome>;
  /** Keys worth reconciling after this round (e.g. a bridge a removed tap used). */
  followUps: Set<WorkKey>;
}
