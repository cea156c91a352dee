// A stand-in for systemd's notify socket (test/helpers/notify-listener.py run
// with the system Python): collects every datagram vifd sends.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from './vifd-process.js';

export interface NotifyDatagram {
  /** Arrival, unix milliseconds. */
  at: number;
  /** The sender's PID (SCM_CREDENTIALS). */
  pid: number;
  /** The datagram's assignments, e.g. ['READY=1', 'STATUS=...']. */
  lines: string[];
}

const SCRIPT = resolve(import.meta.dirname, 'notify-listener.py');

export class NotifyListener {
  readonly datagrams: NotifyDatagram[] = [];
  private readonly child: ChildProcess;
  private listening = false;

  private constructor(readonly address: string) {
    this.child = spawn('/usr/bin/python3', [SCRIPT, address], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buffered = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const record = JSON.parse(buffered.slice(0, nl)) as { t: number; pid: number; msg: string };
        buffered = buffered.slice(nl + 1);
        if (record.msg === 'LISTENING' && !this.listening) this.listening = true;
        else this.datagrams.push({ at: record.t * 1000, pid: record.pid, lines: record.msg.split('\n') });
      }
    });
  }

  /** Binds `address` (a path or @abstract) and resolves once it listens. */
  static async start(address: string): Promise<NotifyListener> {
    const listener = new NotifyListener(address);
    await waitFor(() => listener.listening, 10_000, `notify listener on ${address}`);
    return listener;
  }

  /** The datagrams that carry `assignment` (e.g. 'READY=1'). */
  with(assignment: string): NotifyDatagram[] {
    return this.datagrams.filter((d) => d.lines.includes(assignment));
  }

  /** The value of the last `NAME=` assignment received. */
  last(name: string): string | undefined {
    for (let i = this.datagrams.length - 1; i >= 0; i--) {
      const line = this.datagrams[i]!.lines.find((l) => l.startsWith(`${name}=`));
      if (line !== undefined) return line.slice(name.length + 1);
    }
    return undefined;
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
