// Import rules (docs/ARCHITECTURE.md, "Layers"): checked by
// `npx depcruise src` in the test command. A module imports only from its own
// folder or from a layer below it; the pure layers import nothing effectful;
// only src/host runs commands or opens sockets; no cycles.
/** Bottom to top. */
const LAYERS = [
  ['src/lib/', 'src/errors/', 'src/log\\.ts'],
  ['src/observed/', 'src/desired/'],
  ['src/model/'],
  ['src/host/'],
  ['src/state/'],
  ['src/plan/'],
  ['src/reconcile/'],
  ['src/sources/', 'src/api/'],
  ['src/app/', 'src/daemon\\.ts'],
  ['src/cli/'],
];
const re = (paths) => `^(${paths.join('|')})`;
const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${i}-imports-upward`,
  comment: `${layer.join(', ')} must not import from a layer above it`,
  severity: 'error',
  from: { path: re(layer) },
  to: { path: re(LAYERS.slice(i + 1).flat()) },
}));
const PURE = ['src/lib/', 'src/observed/', 'src/desired/', 'src/model/', 'src/plan/'];
const EFFECTFUL_MODULES = '^(node:)?(child_process|fs|fs/promises|net|dgram|http|https|tls)$|^(execa|chokidar)$';
module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'pure-imports-effects',
      comment: 'the pure core (lib, observed, desired, model, plan) does no I/O: no fs, sockets, processes',
      severity: 'error',
      from: { path: re(PURE) },
      to: { path: EFFECTFUL_MODULES, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'plan-runs-host',
      comment: 'the planner may name host types, never run host code',
      severity: 'error',
      from: { path: '^src/plan/' },
      to: { path: '^src/(host|state)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'only-host-runs-commands',
      comment: 'only src/host starts processes',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/host/' },
      to: { path: '^(node:)?child_process$|^execa$' },
    },
    { name: 'no-cycles', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
    {
      name: 'tests-import-bench',
      comment: 'tests stand on their own: nothing under test/ imports bench/',
      severity: 'error',
      from: { path: '^test/' },
      to: { path: '^bench/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.check.json' },
    exclude: { path: '^dist/' },
  },
};
