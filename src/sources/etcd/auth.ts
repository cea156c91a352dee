// etcd authentication over the JSON gateway: the token of POST
// /v3/auth/authenticate, got again when etcd says it is invalid (simple
// tokens expire when unused for --auth-token-ttl) and before a JWT token's
// `exp`; the password read from its file at each authentication.
import { readFileSync } from 'node:fs';
import { classifyAnswer, errorText, TOKEN_INVALID, type AnswerContext } from './answers.js';
import { EtcdAuthError, EtcdPasswordFileError, EtcdRequestError } from './errors.js';

export interface EtcdAuthOptions {
  user: string;
  /** Read at each authentication (a rotated password is picked up). */
  passwordFile: string;
}

/** Sends one unauthenticated request (with failover). */
type Send = <T>(path: string, body: unknown) => Promise<T>;

export class EtcdTokens {
  private token: string | undefined;
  private refreshAt = Infinity;
  private authenticating: Promise<string> | undefined;

  constructor(
    private readonly auth: EtcdAuthOptions,
    private readonly answers: AnswerContext,
    private readonly send: Send,
    private readonly endpoint: () => string,
  ) {}

  /** The headers of an authenticated request (a token got first if needed). */
  async headers(): Promise<Record<string, string>> {
    if (this.token === undefined || Date.now() >= this.refreshAt) {
      this.authenticating ??= this.authenticate().finally(() => (this.authenticating = undefined));
      await this.authenticating;
    }
    return { authorization: this.token! };
  }

  /** True (and the token is dropped) when `text` says the token is no longer valid. */
  rejected(text: string): boolean {
    if (!TOKEN_INVALID.test(text)) return false;
    this.token = undefined;
    return true;
  }

  private async authenticate(): Promise<string> {
    const { user, passwordFile } = this.auth;
    let password: string;
    try {
      password = readPasswordFile(passwordFile);
    } catch (cause) {
      this.answers.count('authFailures');
      throw new EtcdAuthError({ endpoint: this.endpoint(), user, reason: `cannot read --etcd-password-file ${passwordFile}: ${(cause as Error).message}`, cause });
    }
    let res: { token?: string };
    try {
      res = await this.send<{ token?: string }>('/v3/auth/authenticate', { name: user, password });
    } catch (error) {
      if (error instanceof EtcdRequestError) {
        const typed = classifyAnswer(this.answers, error.endpoint, 'authenticate', error.body);
        if (typed) throw typed;
        this.answers.count('authFailures');
        throw new EtcdAuthError({ endpoint: error.endpoint, user, reason: errorText(error.body), cause: error });
      }
      throw error;
    }
    if (!res.token) throw new EtcdAuthError({ endpoint: this.endpoint(), user, reason: 'no token in the answer' });
    this.token = res.token;
    this.refreshAt = jwtRefreshAt(res.token) ?? Infinity;
    this.answers.count('authentications');
    return res.token;
  }
}

/** Reads a password file: its first line, without the line end. */
export function readPasswordFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new EtcdPasswordFileError(file, `cannot read: ${(cause as Error).message}`, cause);
  }
  const password = text.split(/\r?\n/u)[0] ?? '';
  if (password === '') throw new EtcdPasswordFileError(file, 'empty (the password is its first line)');
  return password;
}

/** When to get a new JWT token (before its `exp`); undefined for simple tokens. */
export function jwtRefreshAt(token: string, now = Date.now()): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown };
    if (typeof payload.exp !== 'number') return undefined;
    const exp = payload.exp * 1000;
    return exp - Math.min(60_000, Math.max(1000, (exp - now) / 5));
  } catch {
    return undefined;
  }
}
