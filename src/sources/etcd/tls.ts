// TLS material for https:// etcd endpoints: --etcd-cacert (trust), --etcd-cert
// and --etcd-key (client certificate). Checked when read (parsable, within its
// validity period, key matching the certificate), so a bad file is a clear
// error naming it. Rotation without restart: the files' identity (inode, size,
// mtime) is compared at most every `checkEveryMs` when a connection is wanted;
// a change is read and checked, and only good material replaces the current
// one (new connections use it; open streams keep theirs). Bad material on
// rotation, or the current certificate expiring, is logged and counted; the
// last good material stays in use.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { EtcdTlsFileError } from './errors.js';

export interface EtcdTlsFiles {
  /** CA bundle that signs the etcd servers' certificates (default: system CAs). */
  cacert?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** When the client certificate stops being valid. */
  certNotAfter?: Date;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/gu;

function read(option: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new EtcdTlsFileError({ option, file, reason: `cannot read: ${(cause as Error).message}`, cause });
  }
}

function checkValidity(option: string, file: string, cert: X509Certificate, now: Date, what: string): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (to.getTime() < now.getTime()) throw new EtcdTlsFileError({ option, file, reason: `${what} expired on ${to.toISOString()} (subject ${cert.subject.replace(/\n/gu, ', ')})` });
  if (from.getTime() > now.getTime()) throw new EtcdTlsFileError({ option, file, reason: `${what} is not valid before ${from.toISOString()}` });
}

function parseCerts(option: string, file: string, pem: Buffer, now: Date): X509Certificate[] {
  const blocks = pem.toString('utf8').match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new EtcdTlsFileError({ option, file, reason: 'no PEM certificate in the file' });
  return blocks.map((block, i) => {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch (cause) {
      throw new EtcdTlsFileError({ option, file, reason: `certificate ${i + 1} is not a valid X.509 certificate: ${(cause as Error).message}`, cause });
    }
    checkValidity(option, file, cert, now, blocks.length > 1 ? `certificate ${i + 1}` : 'the certificate');
    return cert;
  });
}

/** Reads and checks the files; throws EtcdTlsFileError naming the bad one. */
export function loadTlsMaterial(files: EtcdTlsFiles, now = new Date()): TlsMaterial {
  const material: TlsMaterial = {};
  if ((files.cert === undefined) !== (files.key === undefined)) {
    const [option, file] = files.cert === undefined ? ['etcd-key', files.key!] : ['etcd-cert', files.cert];
    throw new EtcdTlsFileError({ option, file, reason: '--etcd-cert and --etcd-key go together' });
  }
  if (files.cacert !== undefined) {
    material.ca = read('etcd-cacert', files.cacert);
    parseCerts('etcd-cacert', files.cacert, material.ca, now);
  }
  if (files.cert !== undefined && files.key !== undefined) {
    material.cert = read('etcd-cert', files.cert);
    material.key = read('etcd-key', files.key);
    const [leaf] = parseCerts('etcd-cert', files.cert, material.cert, now);
    let key;
    try {
      key = createPrivateKey(material.key);
    } catch (cause) {
      throw new EtcdTlsFileError({ option: 'etcd-key', file: files.key, reason: `not a usable private key: ${(cause as Error).message}`, cause });
    }
    if (!leaf!.checkPrivateKey(key)) throw new EtcdTlsFileError({ option: 'etcd-key', file: files.key, reason: `does not match the certificate in ${files.cert}` });
    material.certNotAfter = new Date(leaf!.validTo);
  }
  return material;
}

export interface TlsEvents {
  /** New material was read and is in use. */
  onReload?(): void;
  /** Rotated files could not be used, or the certificate in use expired. */
  onFailure?(error: EtcdTlsFileError): void;
}

function identity(files: EtcdTlsFiles): string {
  return [files.cacert, files.cert, files.key]
    .map((f) => {
      if (f === undefined) return '-';
      try {
        const s = statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}

/** The https agent to use now, rebuilt when the files change. */
export class TlsAgents {
  private current: HttpsAgent;
  private material: TlsMaterial;
  private seen: string;
  private lastCheck = 0;
  private failedFor: string | undefined;
  private expiredReported = false;
  reloads = 0;
  failures = 0;

  constructor(
    readonly files: EtcdTlsFiles,
    private readonly events: TlsEvents = {},
    private readonly checkEveryMs = 5000,
  ) {
    this.seen = identity(files);
    this.material = loadTlsMaterial(files);
    this.current = this.build();
  }

  private build(): HttpsAgent {
    const { ca, cert, key } = this.material;
    return new HttpsAgent({ keepAlive: true, maxSockets: 64, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) });
  }

  /** The agent for a new request; checks the files first (at most every checkEveryMs). */
  agent(now = Date.now()): HttpsAgent {
    if (now - this.lastCheck >= this.checkEveryMs) {
      this.lastCheck = now;
      this.check(new Date(now));
    }
    return this.current;
  }

  /** Forces a check on the next agent() (e.g. before a reconnect). */
  recheck(): void {
    this.lastCheck = 0;
  }

  private fail(error: EtcdTlsFileError): void {
    this.failures++;
    this.events.onFailure?.(error);
  }

  private check(now: Date): void {
    const seen = identity(this.files);
    if (seen !== this.seen && seen !== this.failedFor) {
      try {
        this.material = loadTlsMaterial(this.files, now);
        this.retire(this.current);
        this.current = this.build();
        this.seen = seen;
        this.failedFor = undefined;
        this.expiredReported = false;
        this.reloads++;
        this.events.onReload?.();
      } catch (error) {
        this.failedFor = seen; // reported once per bad version of the files
        if (error instanceof EtcdTlsFileError) this.fail(error);
        else throw error;
      }
    }
    const notAfter = this.material.certNotAfter;
    if (notAfter && notAfter.getTime() < now.getTime() && !this.expiredReported) {
      this.expiredReported = true;
      this.fail(new EtcdTlsFileError({ option: 'etcd-cert', file: this.files.cert!, reason: `the certificate in use expired on ${notAfter.toISOString()} and no valid replacement was found` }));
    }
  }

  /** Idle connections of an old agent close now; busy ones (a watch) when they end. */
  private retire(agent: HttpsAgent): void {
    agent.on('free', (socket) => socket.destroy());
    for (const list of Object.values(agent.freeSockets)) for (const socket of list ?? []) socket.destroy();
  }

  destroy(): void {
    this.current.destroy();
  }
}
