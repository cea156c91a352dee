// One run of `vifd-netlink --stream` (native/vifd-netlink.c): started through
// the guard so it dies with vifd, frames in on stdin, frames out on stdout.
// Knows nothing of netlink; the channel (rtnl-channel.ts) gives frames meaning.
import { execaGuarded, spawnFailure } from '../run.js';
import { tail } from '../../errors/host-errors.js';
import { FrameDecoder, type Frame } from './stream-frames.js';

export interface StreamHelperOptions {
  file: string;
  netns: string | undefined;
  /** Receive buffer of the netlink socket (bytes); undefined: the helper's default (32 MiB). */
  rcvbuf: number | undefined;
  onFrame: (frame: Frame) => void;
  /** Once, when the process is gone. `notStarted`: it could not be run at all. */
  onExit: (exit: { code: number | undefined; signal: string | undefined; stderr: string; notStarted: Error | undefined }) => void;
}

export class StreamHelper {
  private readonly child;
  private stderr = '';
  private corked = false;

  constructor(o: StreamHelperOptions) {
    const args = ['--stream', ...(o.netns ? ['--netns', o.netns] : []), ...(o.rcvbuf ? ['--rcvbuf', String(o.rcvbuf)] : [])];
    this.child = execaGuarded(o.file, args, { reject: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: false, encoding: 'buffer' });
    const decoder = new FrameDecoder();
    this.child.stdout!.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) o.onFrame(frame);
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr = tail(this.stderr + chunk.toString('utf8'))));
    // EPIPE: the helper is gone; its exit says why.
    this.child.stdin!.on('error', () => undefined);
    void this.child.then((result) => {
      o.onExit({ code: result.exitCode, signal: result.signal, stderr: this.stderr, notStarted: result.signal ? undefined : spawnFailure(result, this.stderr) });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Frames written in one turn of the event loop go out in one writev
   * (a 5000-tap batch was 5000 pipe writes, a tenth of a cold start's CPU). */
  write(bytes: Buffer): void {
    const stdin = this.child.stdin!;
    if (!this.corked) {
      this.corked = true;
      stdin.cork();
      process.nextTick(() => {
        this.corked = false;
        stdin.uncork();
      });
    }
    stdin.write(bytes);
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** Closes stdin (the helper exits 0); SIGKILL if it is still there after 2 s. */
  stop(): void {
    this.child.stdin!.end();
    setTimeout(() => this.child.kill('SIGKILL'), 2000).unref();
  }
}
