// JSON logs (pino). Lines about a binding carry `port`.
// When stdout is the journal (systemd sets JOURNAL_STREAM=<dev>:<inode> of
// the stream it connected), each line starts with its syslog priority in the
// sd-daemon(3) convention (`<4>{...}`): journald strips the prefix and files
// the line at that priority, so `journalctl -p warning -u vifd` works. The
// rest of the line stays pino's JSON. Elsewhere the lines are plain pino JSON.
import { fstatSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';

export type LogFormat = 'json' | 'journal';

/** syslog(3) priority for a pino level number: fatal 2 (crit), error 3,
 * warn 4 (warning), info 6, debug and trace 7. */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** Is file descriptor `fd` the stream JOURNAL_STREAM names? */
export function isJournalStream(env: NodeJS.ProcessEnv, fd: number): boolean {
  const match = /^(\d+):(\d+)$/.exec(env['JOURNAL_STREAM'] ?? '');
  if (!match) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(match[1]!) && st.ino === BigInt(match[2]!);
  } catch {
    return false;
  }
}

/** VIFD_LOG_FORMAT=json|journal decides; otherwise journal iff stdout is the journal. */
export function logFormat(env: NodeJS.ProcessEnv = process.env, fd = 1): LogFormat {
  const forced = env['VIFD_LOG_FORMAT'];
  if (forced === 'json' || forced === 'journal') return forced;
  return isJournalStream(env, fd) ? 'journal' : 'json';
}

const LEVEL = /"level":(\d+)/;

/** `<N>` in front of a pino line, N from the line's level. */
export function withPriority(line: string): string {
  const level = LEVEL.exec(line);
  return `<${syslogPriority(level ? Number(level[1]) : 30)}>${line}`;
}

export interface LoggerOptions {
  format?: LogFormat;
  /** Default: stdout. */
  destination?: DestinationStream;
  level?: string;
}

export function createLogger(name = 'vifd', o: LoggerOptions = {}): Logger {
  const format = o.format ?? logFormat();
  const options = {
    name,
    level: o.level ?? process.env['VIFD_LOG_LEVEL'] ?? 'info',
    base: { pid: process.pid },
    ...(format === 'journal' ? { hooks: { streamWrite: withPriority } } : {}),
  };
  return o.destination ? pino(options, o.destination) : pino(options);
}

/** The prefix for a line written to stderr by hand (e.g. a fatal CLI error):
 * `<3>` when stderr is the journal, '' otherwise. */
export function stderrPriorityPrefix(priority: number, env: NodeJS.ProcessEnv = process.env): string {
  const forced = env['VIFD_LOG_FORMAT'];
  if (forced === 'json') return '';
  return forced === 'journal' || isJournalStream(env, 2) ? `<${priority}>` : '';
}
