// The command line as data: one table per command. The parser (options.ts),
// `--help` and usage errors (help.ts), the man page (man.ts) and the bash
// completion (completion.ts) are all generated from these tables, so none of
// them can disagree with what the parser accepts. Imports nothing heavy:
// `vifd --help` loads only this and help.ts.

export const DEFAULT_DESIRED_DIR = '/etc/vifd/bindings.d';
export const DEFAULT_STATE_DIR = '/var/lib/vifd';
export const DEFAULT_OVSDB = 'unix:/run/openvswitch/db.sock';

/** What the shell should offer for an option's value or a positional. */
/** 'port': the port UUIDs with a status file in the state directory. */
export type Completion = 'dir' | 'file' | 'netns' | 'hostname' | 'port' | 'none';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly default?: string | boolean;
  readonly short?: string;
  /** The value's name in usage text (string options), e.g. DIR. */
  readonly value?: string;
  readonly help: string;
  /** Shown instead of `default` when the default is computed (e.g. from another option). */
  readonly defaultText?: string;
  readonly choices?: readonly string[];
  /** The command refuses to run without it (shown without brackets). */
  readonly required?: boolean;
  readonly complete?: Completion;
  /** Options that belong together are shown as one group in usage text. */
  readonly group?: string;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

export interface CommandSpec<T extends OptionTable = OptionTable> {
  readonly name: string;
  readonly summary: string;
  /** Paragraphs for `--help` and the man page. */
  readonly description: readonly string[];
  readonly options: T;
  /** Positional arguments, e.g. FILE...; without it the command takes none. */
  readonly positionals?: { readonly name: string; readonly min: number; readonly help: string; readonly complete: Completion; readonly choices?: readonly string[] };
  /** Extra usage lines for alternative forms (shown as given). */
  readonly forms?: readonly string[];
}

function defineCommand<const T extends OptionTable>(spec: CommandSpec<T>): CommandSpec<T> {
  return spec;
}

// Shared groups ------------------------------------------------------------

export const OVS_OPTIONS = {
  ovsdb: {
    type: 'string',
    value: 'unix:PATH',
    help: 'OVSDB server for `ovs` bindings.',
    defaultText: `${DEFAULT_OVSDB} when that socket exists and --netns is not given; otherwise no OVS`,
    complete: 'none',
    group: 'ovs',
  },
  'ovs-datapath': {
    type: 'string',
    value: 'TYPE',
    help: 'Datapath type of the OVS bridges vifd creates when a binding names none.',
    choices: ['system', 'netdev'],
    group: 'ovs',
  },
  'ready-when': {
    type: 'string',
    value: 'GATE',
    help: 'Readiness gate of OVS bindings that name none (vif.readyWhen): plugged, ovn-installed (ovn-controller set external_ids:ovn-installed=true), ofport (a valid ofport; an isolated port out of VLAN 4095).',
    choices: ['plugged', 'ovn-installed', 'ofport'],
    defaultText: 'plugged',
    group: 'ovs',
  },
} as const satisfies OptionTable;

export const API_RUN_OPTIONS = {
  api: {
    type: 'string',
    value: 'ADDRESS',
    help: 'Where the HTTP API listens: unix:PATH (mode 0600) or tcp:127.0.0.1:PORT (loopback only, needs --api-token-file).',
    defaultText: 'unix:<state-dir>/vifd.sock',
    complete: 'none',
    group: 'api',
  },
  'api-token-file': {
    type: 'string',
    value: 'FILE',
    help: 'File holding the bearer token the API requires (on TCP).',
    complete: 'file',
    group: 'api',
  },
} as const satisfies OptionTable;

/** How to reach etcd (`vifd run` and `vifd status --etcd`): TLS files and credentials. */
export const ETCD_CONNECTION_OPTIONS = {
  'etcd-cacert': { type: 'string', value: 'FILE', help: 'CA bundle for https:// etcd endpoints (re-read when it changes).', defaultText: 'the system CAs', complete: 'file', group: 'etcd' },
  'etcd-cert': { type: 'string', value: 'FILE', help: 'Client certificate for etcd (with --etcd-key; re-read when it changes).', complete: 'file', group: 'etcd' },
  'etcd-key': { type: 'string', value: 'FILE', help: 'Private key of --etcd-cert.', complete: 'file', group: 'etcd' },
  'etcd-user': { type: 'string', value: 'NAME', help: 'etcd user (auth API token; with --etcd-password-file).', complete: 'none', group: 'etcd' },
  'etcd-password-file': { type: 'string', value: 'FILE', help: "File whose first line is the etcd user's password.", complete: 'file', group: 'etcd' },
} as const satisfies OptionTable;

export const ETCD_RUN_OPTIONS = {
  etcd: {
    type: 'string',
    value: 'URL[,URL...]',
    help: 'Also read desired bindings from etcd (v3 JSON gateway), and publish statuses and liveness there.',
    complete: 'none',
    group: 'etcd',
  },
  ...ETCD_CONNECTION_OPTIONS,
  'etcd-prefix': {
    type: 'string',
    value: 'PREFIX',
    help: "Key prefix of this host's bindings in etcd (needs --etcd).",
    defaultText: '/vifd/v1/hosts/<hostname>/bindings/',
    complete: 'none',
    group: 'etcd',
  },
  hostname: { type: 'string', value: 'NAME', help: "This host's name in etcd keys.", defaultText: 'the system host name', complete: 'hostname', group: 'etcd' },
  'etcd-lease-seconds': { type: 'string', value: 'N', default: '10', help: 'TTL of the liveness lease.', complete: 'none', group: 'etcd' },
  'etcd-initial-timeout-seconds': {
    type: 'string',
    value: 'N',
    default: '10',
    help: 'How long start-up waits for the first etcd listing before going on without it (removals stay held).',
    complete: 'none',
    group: 'etcd',
  },
} as const satisfies OptionTable;

const NETNS = {
  type: 'string',
  value: 'NAME',
  help: "Work inside this network namespace (/run/netns/NAME) instead of the host's (tests, demos).",
  complete: 'netns',
} as const satisfies OptionSpec;

// Commands -----------------------------------------------------------------

export const RUN = defineCommand({
  name: 'run',
  summary: 'the daemon: make the host match the desired bindings, and keep it so',
  description: [
    'Loads every source (the API store, the desired directory, etcd with --etcd), reconciles everything once, then reacts to changes, kernel link events and OVSDB updates, with a full resync every --resync-seconds.',
    'SIGTERM or SIGINT finish the round in flight, record status and exit 0; nothing is torn down. SIGHUP resyncs at once (re-reads the sources, dumps the host). Under systemd (Type=notify) it reports READY=1 after the first round, STATUS= with the binding counts, STOPPING=1, and WATCHDOG=1 while its reconcile loop makes progress.',
  ],
  options: {
    'desired-dir': { type: 'string', value: 'DIR', default: DEFAULT_DESIRED_DIR, help: 'Directory of binding documents (*.json: PortBinding, PortBindingList or NeutronPort), watched for changes.', complete: 'dir' },
    'state-dir': { type: 'string', value: 'DIR', default: DEFAULT_STATE_DIR, help: 'Status files, intent journal, lock and API socket.', complete: 'dir' },
    netns: NETNS,
    'resync-seconds': { type: 'string', value: 'N', default: '60', help: 'Interval of the full resync (the safety net behind events).', complete: 'none' },
    ...OVS_OPTIONS,
    ...API_RUN_OPTIONS,
    ...ETCD_RUN_OPTIONS,
  },
});

export const VALIDATE = defineCommand({
  name: 'validate',
  summary: 'check binding documents; change nothing',
  description: ['Exits 0 when every file is a valid document, 1 if any is not; each problem is printed with its JSON path and reason.'],
  options: {},
  positionals: { name: 'FILE...', min: 1, help: 'binding documents (PortBinding, PortBindingList or NeutronPort)', complete: 'file' },
});

export const PLAN = defineCommand({
  name: 'plan',
  summary: 'print what `run` would change right now; change nothing',
  description: ['Reads the desired directory and the host once and prints the planned actions, conflicts and blocked bindings.'],
  options: {
    'desired-dir': { type: 'string', value: 'DIR', default: DEFAULT_DESIRED_DIR, help: 'Directory of binding documents (*.json).', complete: 'dir' },
    'state-dir': {
      type: 'string',
      value: 'DIR',
      help: "A running vifd's state directory: its journal (names to adopt) and port-profile associations are taken into account.",
      complete: 'dir',
    },
    netns: NETNS,
    json: { type: 'boolean', default: false, help: 'Print the plan as JSON.' },
    ...OVS_OPTIONS,
  },
});

export const STATUS = defineCommand({
  name: 'status',
  summary: 'print the per-binding status a running (or stopped) vifd recorded',
  description: [
    'Without --api or --watch, reads the status files in the state directory; with --api, asks a running vifd; --watch follows changes (redrawing on a terminal, one line per change otherwise).',
    'With --etcd: the fleet (hosts alive, statuses by phase per host), or with --hostname one host\'s statuses as etcd has them.',
  ],
  options: {
    'state-dir': { type: 'string', value: 'DIR', default: DEFAULT_STATE_DIR, help: 'State directory to read (and whose API socket --watch uses).', complete: 'dir' },
    json: { type: 'boolean', default: false, help: 'Print JSON.' },
    watch: { type: 'boolean', default: false, help: 'Follow changes over the API until interrupted.' },
    api: { type: 'string', value: 'ADDRESS', help: 'A running vifd\'s API: unix:PATH or tcp:HOST:PORT.', complete: 'none', group: 'api' },
    'api-token-file': { type: 'string', value: 'FILE', help: 'Bearer token for a TCP API.', complete: 'file', group: 'api' },
    etcd: { type: 'string', value: 'URL[,URL...]', help: 'Read the fleet from etcd instead.', complete: 'none', group: 'etcd' },
    hostname: { type: 'string', value: 'NAME', help: "With --etcd: one host's statuses.", complete: 'hostname', group: 'etcd' },
    ...ETCD_CONNECTION_OPTIONS,
  },
});

export const WAIT = defineCommand({
  name: 'wait',
  summary: 'wait until ports are Ready (or Removed) at their current generation',
  description: [
    "Asks a running vifd's API. A status counts only when it describes the binding's current generation: a Ready left from before the last change is never the answer.",
    'Exits 0 when every port reached the target, 1 on timeout or when a port is Failed, Conflict or Invalid at that generation (each port\'s last phase and message printed), 2 on bad usage.',
  ],
  options: {
    for: { type: 'string', value: 'PHASE', help: 'What to wait for.', choices: ['Ready', 'Removed'], required: true },
    timeout: { type: 'string', value: 'S', default: '300', help: 'Give up after this many seconds.', complete: 'none' },
    'state-dir': { type: 'string', value: 'DIR', default: DEFAULT_STATE_DIR, help: 'Whose API socket (<state-dir>/vifd.sock) to ask.', complete: 'dir' },
    api: { type: 'string', value: 'ADDRESS', help: "A running vifd's API: unix:PATH or tcp:HOST:PORT.", complete: 'none', group: 'api' },
    'api-token-file': { type: 'string', value: 'FILE', help: 'Bearer token for a TCP API.', complete: 'file', group: 'api' },
  },
  positionals: { name: 'PORT...', min: 1, help: 'port UUIDs', complete: 'port' },
});

export const SCHEMA = defineCommand({
  name: 'schema',
  summary: 'print the PortBinding JSON Schema',
  description: ['Generated from the same schema the parser validates with.'],
  options: {},
});

export const COMPLETION = defineCommand({
  name: 'completion',
  summary: 'print the bash completion script',
  description: ['Generated from these option tables; the Debian package installs it as /usr/share/bash-completion/completions/vifd.'],
  options: {},
  positionals: { name: 'SHELL', min: 1, help: 'bash (the only one supported)', complete: 'none', choices: ['bash'] },
});

export const MAN = defineCommand({
  name: 'man',
  summary: 'print the vifd(8) manual page (roff)',
  description: ['Generated from these option tables: `vifd man | man -l -`.'],
  options: {},
});

export const COMMANDS: readonly CommandSpec[] = [RUN, VALIDATE, PLAN, STATUS, WAIT, SCHEMA, COMPLETION, MAN];

export function commandNamed(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Environment variables vifd reads (for help and the man page). */
export const ENVIRONMENT: ReadonlyArray<readonly [string, string]> = [
  ['VIFD_LOG_LEVEL', 'pino log level: trace, debug, info (default), warn, error, fatal.'],
  ['JOURNAL_STREAM', 'Set by systemd when stdout is the journal: each log line then starts with its syslog priority (<3> error, <4> warning, <6> info, <7> debug) so journalctl -p works.'],
  ['VIFD_LOG_FORMAT', 'json forces pino JSON lines, journal forces the priority prefix, regardless of JOURNAL_STREAM.'],
  ['NOTIFY_SOCKET', 'Set by systemd for Type=notify: READY=1, STATUS=, STOPPING=1 and WATCHDOG=1 are sent there (by the vifd-notify helper).'],
  ['WATCHDOG_USEC, WATCHDOG_PID', 'Set by systemd with WatchdogSec=: WATCHDOG=1 is sent every WATCHDOG_USEC/2 while the reconcile loop makes progress.'],
  ['VIFD_NETLINK_HELPER, VIFD_NOTIFY_HELPER', 'Paths of the native helpers (default: native/build/ next to the installed CLI).'],
];
