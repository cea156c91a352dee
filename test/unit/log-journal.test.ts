// journald priorities: with JOURNAL_STREAM naming stdout, each pino line
// starts with <N> (sd-daemon prefix); otherwise plain pino JSON.
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, isJournalStream, logFormat, syslogPriority, withPriority } from '../../src/log.js';

const dir = mkdtempSync(join(tmpdir(), 'vifd-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function devIno(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } finally {
    closeSync(fd);
  }
}

describe('syslog priorities from pino levels', () => {
  it('maps every pino level to the syslog priority journalctl -p filters on', () => {
    const levels = pino.levels.values;
    expect(syslogPriority(levels['fatal']!)).toBe(2);
    expect(syslogPriority(levels['error']!)).toBe(3);
    expect(syslogPriority(levels['warn']!)).toBe(4);
    expect(syslogPriority(levels['info']!)).toBe(6);
    expect(syslogPriority(levels['debug']!)).toBe(7);
    expect(syslogPriority(levels['trace']!)).toBe(7);
  });

  it('prefixes a pino line by its level', () => {
    expect(withPriority('{"level":40,"time":1,"msg":"x"}')).toBe('<4>{"level":40,"time":1,"msg":"x"}');
    expect(withPriority('{"level":50,"msg":"a \\"level\\":30 inside"}')).toMatch(/^<3>/);
  });
});

describe('journal detection', () => {
  it('JOURNAL_STREAM must name this very stream (dev:inode)', () => {
    const file = join(dir, 'detect');
    const fd = openSync(file, 'w');
    try {
      expect(isJournalStream({ JOURNAL_STREAM: devIno(file) }, fd)).toBe(true);
      expect(isJournalStream({ JOURNAL_STREAM: '1:2' }, fd)).toBe(false);
      expect(isJournalStream({ JOURNAL_STREAM: 'garbage' }, fd)).toBe(false);
      expect(isJournalStream({}, fd)).toBe(false);
      expect(logFormat({ JOURNAL_STREAM: devIno(file) }, fd)).toBe('journal');
      expect(logFormat({ JOURNAL_STREAM: devIno(file), VIFD_LOG_FORMAT: 'json' }, fd)).toBe('json');
      expect(logFormat({ VIFD_LOG_FORMAT: 'journal' }, fd)).toBe('journal');
    } finally {
      closeSync(fd);
    }
  });

  it('journal format: each line carries its priority, then the same pino JSON', () => {
    const file = join(dir, 'journal.log');
    const logger = createLogger('vifd', { format: 'journal', level: 'debug', destination: pino.destination({ dest: file, sync: true }) });
    logger.debug('d');
    logger.info({ port: 'p1' }, 'i');
    logger.warn('w');
    logger.error('e');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.slice(0, 3))).toEqual(['<7>', '<6>', '<4>', '<3>']);
    expect(JSON.parse(lines[1]!.slice(3))).toMatchObject({ level: 30, msg: 'i', port: 'p1', name: 'vifd' });
  });

  it('json format (not the journal): plain pino lines', () => {
    const file = join(dir, 'plain.log');
    const logger = createLogger('vifd', { format: 'json', destination: pino.destination({ dest: file, sync: true }) });
    logger.warn('w');
    const line = readFileSync(file, 'utf8').trim();
    expect(line.startsWith('{')).toBe(true);
    expect(JSON.parse(line)).toMatchObject({ level: 40, msg: 'w' });
  });

  it('the real vifd: a fatal CLI error on stderr is <3> only when stderr is the stream JOURNAL_STREAM names', () => {
    // `vifd run --netns` of a namespace that does not exist: the error path, no device touched.
    const out = join(dir, 'vifd-stdout');
    const err = join(dir, 'vifd-stderr');
    const outFd = openSync(out, 'w');
    const errFd = openSync(err, 'w');
    const env = { ...process.env, JOURNAL_STREAM: devIno(out) };
    const bin = resolve(import.meta.dirname, '../../bin/vifd.js');
    const stateDir = join(dir, 'state');
    let status = 0;
    try {
      execFileSync(process.execPath, [bin, 'run', '--desired-dir', join(dir, 'desired'), '--state-dir', stateDir, '--netns', 'vifd-no-such-netns-x'], {
        stdio: ['ignore', outFd, errFd],
        env,
      });
    } catch (error) {
      status = (error as { status: number }).status;
    } finally {
      closeSync(outFd);
      closeSync(errFd);
    }
    expect(status).toBe(1);
    // stderr is a different file: its line gets no prefix...
    expect(readFileSync(err, 'utf8')).toMatch(/^vifd: network namespace vifd-no-such-netns-x does not exist/);
    // ...unless stderr is the journal too.
    const shared = join(dir, 'vifd-both');
    const fd = openSync(shared, 'w');
    try {
      execFileSync(process.execPath, [bin, 'run', '--desired-dir', join(dir, 'desired'), '--state-dir', stateDir, '--netns', 'vifd-no-such-netns-x'], {
        stdio: ['ignore', fd, fd],
        env: { ...process.env, JOURNAL_STREAM: devIno(shared) },
      });
    } catch {
      // exit 1 expected
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(shared, 'utf8')).toMatch(/^<3>vifd: network namespace/m);
  });
});
