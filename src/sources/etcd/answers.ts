// What etcd's error answers and failed handshakes mean, as typed errors
// (credentials, permissions, certificates), counted for the metrics.
import { unb64 } from './codec.js';
import { EtcdAuthError, EtcdPermissionError, EtcdTlsHandshakeError } from './errors.js';
import type { EtcdConnectionError } from './http.js';
import type { TlsAgents } from './tls.js';

/** Failures worth a metric: certificates, credentials, permissions. */
export interface EtcdClientStats {
  tlsHandshakeFailures: number;
  authFailures: number;
  permissionDenied: number;
  /** Tokens obtained (the first, and every refresh). */
  authentications: number;
}

export const TOKEN_INVALID = /invalid auth token|auth token is invalid|user name is empty|user name not found/iu;
const AUTH_FAILED = /authentication failed|invalid user ID or password/iu;
const PERMISSION_DENIED = /permission denied/iu;
/** etcd >= 3.4 with auth on refuses gateway requests whose client certificate has a CommonName. */
const GATEWAY_CN = /CommonName of client sending a request against gateway/iu;

/** The message of a gateway error body (`{"error": ..., "code": N}`), or the text. */
export function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    const text = parsed.message ?? parsed.error;
    return typeof text === 'string' ? text : body.trim();
  } catch {
    return body.trim();
  }
}

/** What a request was about, for messages: "range /vifd/v1/hosts/b/bindings/". */
export function describeRequest(path: string, body: unknown): string {
  const op = path.split('/').pop() ?? path;
  const key = (body as { key?: unknown; create_request?: { key?: unknown } } | undefined);
  const k = typeof key?.key === 'string' ? key.key : typeof key?.create_request?.key === 'string' ? key.create_request.key : undefined;
  return k ? `${op} ${unb64(k)}` : op;
}

export interface AnswerContext {
  tls?: TlsAgents | undefined;
  auth?: { user: string; passwordFile: string } | undefined;
  count(stat: keyof EtcdClientStats): void;
}

/** An etcd error answer as a typed error (permission, credentials), else undefined. */
export function classifyAnswer(c: AnswerContext, endpoint: string, what: string, text: string): Error | undefined {
  const user = c.auth?.user;
  if (GATEWAY_CN.test(text)) {
    c.count('authFailures');
    return new EtcdAuthError({
      endpoint,
      user,
      reason: `etcd refuses client certificates with a CommonName on its JSON gateway when authentication is on (CN-based auth is gRPC-only): use a certificate without CN (e.g. subject /O=vifd/OU=<host>) for TLS, and --etcd-user/--etcd-password-file for the identity${c.tls?.files.cert ? ` (--etcd-cert ${c.tls.files.cert})` : ''}`,
    });
  }
  if (PERMISSION_DENIED.test(text)) {
    c.count('permissionDenied');
    return new EtcdPermissionError({ endpoint, what, user });
  }
  if (AUTH_FAILED.test(text)) {
    c.count('authFailures');
    return new EtcdAuthError({ endpoint, user, reason: `${errorText(text)}${c.auth ? ` (--etcd-password-file ${c.auth.passwordFile})` : ''}` });
  }
  if (TOKEN_INVALID.test(text) && !c.auth) {
    c.count('authFailures');
    return new EtcdAuthError({ endpoint, reason: `${errorText(text)}: etcd has authentication enabled; give --etcd-user and --etcd-password-file` });
  }
  return undefined;
}

/** A failed handshake as a clear error naming the file involved. */
export function tlsHandshakeError(c: AnswerContext, error: EtcdConnectionError): EtcdTlsHandshakeError {
  c.count('tlsHandshakeFailures');
  const files = c.tls?.files;
  const cause = error.cause as { message?: string; code?: string } | undefined;
  const message = cause?.message ?? error.message;
  const alert = /alert ([a-z ]+?)(?::|$)/mu.exec(message)?.[1];
  return new EtcdTlsHandshakeError({
    endpoint: error.endpoint,
    side: error.tls ?? 'server-certificate',
    reason: `${alert ? `TLS alert "${alert}" from the server` : message}${cause?.code ? ` (${cause.code})` : ''}`,
    file: error.tls === 'client-certificate' ? files?.cert : files?.cacert,
    cause: error,
  });
}
