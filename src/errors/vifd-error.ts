// The one error base class: every error vifd raises on purpose carries a
// stable `code` (what scripts and tests match on), an optional `cause`, and
// structured `fields` (what the log and the status show). Subsystems extend
// it and narrow `code` to their own union.

export interface VifdErrorOptions {
  cause?: unknown;
  /** Structured facts about the failure (device, line, errno...), logged as is. */
  fields?: Readonly<Record<string, unknown>>;
}

export class VifdError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly fields: Readonly<Record<string, unknown>>;

  constructor(code: Code, message: string, options: VifdErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.fields = options.fields ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, ...this.fields };
  }
}

/** The `code` of any error-like value (ours, Node's `ENOENT`...), if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
