// vifd plan: what `run` would change right now. Reads the desired directory
// and the host once; changes nothing.
import { DesiredStore } from '../desired/store.js';
import { LinuxHost } from '../host/host.js';
import { assertNetnsExists } from '../daemon.js';
import { describeAction, describeOvsChanges } from '../plan/describe.js';
import { allKeys, planRound } from '../plan/plan.js';
import { planContextOf, planningOf, readPlanningState } from '../app/planning.js';
import { listDocumentPaths, loadFiles } from '../sources/load-files.js';
import { parseCommand } from './options.js';
import { PLAN } from './option-tables.js';
import { ovsArgs } from './ovs-args.js';
import { OvsHost } from '../host/ovs-host.js';
import { createLogger } from '../log.js';

export async function planCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(PLAN, argv);
  const ovsOptions = ovsArgs(values);
  await assertNetnsExists(values.netns);
  const store = new DesiredStore();
  const report = await loadFiles(await listDocumentPaths(values['desired-dir']), store);
  const planning = planningOf(ovsOptions);
  const ovs = ovsOptions.ovsdb ? new OvsHost(ovsOptions.ovsdb, createLogger()) : undefined;
  if (ovs) await ovs.connect(5000);
  const host = new LinuxHost(values.netns, planning.ownership, ovs);
  const snapshot = await host.snapshot();
  await ovs?.stop();
  // Port-profile associations are not visible on the links: take the running
  // vifd's record of them, or an associated macvtap would be planned down.
  const context = planContextOf(planning, store.view(), await readPlanningState(values['state-dir']));
  const plan = planRound(allKeys(snapshot, context), snapshot, context);
  const outcomes = [...plan.outcomes].filter(([, o]) => o.state !== 'converged');
  if (values.json) {
    process.stdout.write(JSON.stringify({ actions: plan.linkActions, ovs: plan.ovsChanges ?? null, outcomes: Object.fromEntries(outcomes), invalid: report.invalid }, null, 2) + '\n');
    return 0;
  }
  for (const { source, problems } of report.invalid) {
    for (const p of problems) process.stdout.write(`invalid ${source}: ${p.path}: ${p.message}\n`);
  }
  for (const action of plan.linkActions) process.stdout.write(`${action.key}: ${describeAction(action)}\n`);
  for (const line of describeOvsChanges(plan.ovsChanges)) process.stdout.write(`ovs: ${line}\n`);
  for (const [key, outcome] of outcomes) {
    if (outcome.state === 'conflict' || outcome.state === 'blocked') process.stdout.write(`${key}: ${outcome.state}: ${outcome.message ?? ''}\n`);
  }
  const ovsCount = describeOvsChanges(plan.ovsChanges).length;
  process.stdout.write(`${plan.linkActions.length + ovsCount} action(s); ${store.view().bindings.size} binding(s) desired\n`);
  return 0;
}
