// API errors: each has a stable `code` and the HTTP status it maps to. The
// server turns any of them into a JSON body `{code, message, ...fields}`, so
// an ApiError's `fields` are exactly what its response body adds.
import type { Problem } from '../desired/problem.js';
import { VifdError, type VifdErrorOptions } from '../errors/vifd-error.js';

export abstract class ApiError<Code extends string = string> extends VifdError<Code> {
  abstract readonly status: number;
}

/** The body or URL breaks the schema: the list of problems (path, reason). */
export class InvalidRequestError extends ApiError<'INVALID'> {
  readonly status = 400;
  constructor(readonly problems: Problem[]) {
    super('INVALID', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { fields: { problems } });
  }
}

export class UnauthorizedError extends ApiError<'UNAUTHORIZED'> {
  readonly status = 401;
  constructor() {
    super('UNAUTHORIZED', 'a bearer token is required (Authorization: Bearer <token>)');
  }
}

export class NotFoundError extends ApiError<'NOT_FOUND'> {
  readonly status = 404;
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export class MethodNotAllowedError extends ApiError<'METHOD_NOT_ALLOWED'> {
  readonly status = 405;
  constructor(readonly method: string, readonly allowed: readonly string[]) {
    super('METHOD_NOT_ALLOWED', `${method} is not allowed here (allowed: ${allowed.join(', ')})`);
  }
}

/** The port (or a device name it needs) is held by another source or port. */
export class BindingConflictError extends ApiError<'CONFLICT'> {
  readonly status = 409;
  constructor(message: string, readonly holder: string) {
    super('CONFLICT', message, { fields: { holder } });
  }
}

export class PayloadTooLargeError extends ApiError<'PAYLOAD_TOO_LARGE'> {
  readonly status = 413;
  /** `closeConnection`: the rest of the body was not read. */
  constructor(readonly limit: number, readonly closeConnection = false) {
    super('PAYLOAD_TOO_LARGE', `request body is over the ${limit}-byte limit`);
  }
}

/** Persisting an API binding failed: nothing was applied. */
export class PersistError extends ApiError<'PERSIST_FAILED'> {
  readonly status = 500;
  constructor(readonly port: string, cause: unknown) {
    super('PERSIST_FAILED', `could not save binding ${port}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export class NotReadyError extends ApiError<'NOT_READY'> {
  readonly status = 503;
  constructor(message: string) {
    super('NOT_READY', message);
  }
}

/** `--api` names something vifd cannot serve on. */
export class ApiAddressError extends VifdError<'API_ADDRESS'> {
  constructor(message: string, options?: VifdErrorOptions) {
    super('API_ADDRESS', message, options);
  }
}

/** Another process answers on the unix socket path: not stale, not ours. */
export class ApiSocketInUseError extends VifdError<'API_SOCKET_IN_USE'> {
  constructor(readonly path: string) {
    super('API_SOCKET_IN_USE', `another process is serving on ${path}`, { fields: { path } });
  }
}
