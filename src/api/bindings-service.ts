// What the API does with bindings: validate, check for conflicts, persist,
// and only then put them into the DesiredStore as source `api:<port>`. Every
// check happens before anything is written, and a failed write changes
// nothing, so an error never leaves a binding half applied.
import { UUID_ANY_CASE } from '../lib/uuid.js';
import type { Logger } from 'pino';
import { parseDocumentValue, type ParseResult } from '../desired/parse.js';
import { type Problem } from '../desired/problem.js';
import type { PortBinding } from '../desired/schema.js';
import { resolveSpec } from '../desired/spec.js';
import type { DesiredBinding, DesiredStore } from '../desired/store.js';
import { apiSourceId, type ApiBindingFiles } from './binding-files.js';
import { BindingConflictError, InvalidRequestError, NotFoundError, PersistError } from './errors.js';
import { KeyedLock } from './keyed-lock.js';

const UUID = UUID_ANY_CASE;

export interface BindingRecord {
  port: string;
  source: string;
  binding: PortBinding;
  /** Other sources naming the same port (they lost: first accepted wins). */
  shadowed: string[];
  conflict?: string;
  invalid?: { source: string; problems: Problem[] };
  /** The current desired generation: a status with this observedGeneration describes it. */
  generation: number;
}

export interface PutOutcome {
  created: boolean;
  changed: boolean;
  binding: PortBinding;
  /** The generation this change got (unchanged: the current one). */
  generation: number;
}

export interface BindingsServiceDeps {
  store: DesiredStore;
  files: ApiBindingFiles;
  onChange: (ports: Set<string>) => void;
  logger: Logger;
}

/** The port in a URL: a UUID, lower-cased, or a 400. */
export function portFromUrl(text: string): string {
  if (!UUID.test(text)) throw new InvalidRequestError([{ path: '(url)', message: `${JSON.stringify(text)} is not a port UUID` }]);
  return text.toLowerCase();
}

function record(port: string, desired: DesiredBinding): BindingRecord {
  const out: BindingRecord = { port, source: desired.source, binding: desired.spec.binding, shadowed: desired.shadowed, generation: desired.generation };
  if (desired.conflict) out.conflict = desired.conflict;
  if (desired.invalid) out.invalid = desired.invalid;
  return out;
}

export class BindingsService {
  private readonly lock = new KeyedLock();
  /** Device names of PUTs being saved right now: name → port. */
  private readonly reserved = new Map<string, string>();

  constructor(private readonly deps: BindingsServiceDeps) {}

  /** Loads the saved API bindings into the store (before the first reconcile). */
  async load(): Promise<number> {
    await this.deps.files.init();
    const affected = new Set<string>();
    const loaded = await this.deps.files.loadAll();
    for (const { port, result } of loaded) {
      if (!result.ok) this.deps.logger.warn({ port, problems: result.problems }, 'saved API binding is damaged: reported Invalid');
      for (const p of this.deps.store.set(apiSourceId(port), result)) affected.add(p);
    }
    if (affected.size > 0) this.deps.onChange(affected);
    return loaded.length;
  }

  list(sourcePrefix = ''): BindingRecord[] {
    const out: BindingRecord[] = [];
    for (const [port, desired] of this.deps.store.view().bindings) {
      if (desired.source.startsWith(sourcePrefix)) out.push(record(port, desired));
    }
    return out.sort((a, b) => a.port.localeCompare(b.port));
  }

  get(port: string): BindingRecord {
    const desired = this.deps.store.view().bindings.get(port);
    if (!desired) throw new NotFoundError(`no binding for port ${port}`);
    return record(port, desired);
  }

  async put(port: string, body: unknown): Promise<PutOutcome> {
    const { binding, result } = this.validate(port, body);
    return this.lock.run(port, async () => {
      const id = apiSourceId(port);
      const previous = this.deps.store.get(id);
      this.assertNoConflict(binding);
      const before = previous?.lastValid?.[0];
      if (before && !previous.problems && JSON.stringify(before) === JSON.stringify(binding)) {
        return { created: false, changed: false, binding, generation: this.deps.store.generationOf(port) ?? 0 };
      }
      const names = resolveSpec(binding).exclusiveNames;
      for (const name of names) this.reserved.set(name, port);
      try {
        try {
          await this.deps.files.write(port, body);
        } catch (error) {
          throw new PersistError(port, error);
        }
        try {
          this.assertNoConflict(binding); // a directory file may have claimed it meanwhile
        } catch (error) {
          await this.restoreFile(port, before);
          throw error;
        }
        const affected = this.deps.store.set(id, result);
        this.deps.onChange(affected);
      } finally {
        for (const name of names) if (this.reserved.get(name) === port) this.reserved.delete(name);
      }
      this.deps.logger.info({ port, source: id, created: !before }, before ? 'API binding updated' : 'API binding created');
      return { created: !before, changed: true, binding, generation: this.deps.store.generationOf(port) ?? 0 };
    });
  }

  async delete(port: string): Promise<void> {
    await this.lock.run(port, async () => {
      const id = apiSourceId(port);
      if (!this.deps.store.get(id)) {
        const holder = this.deps.store.view().bindings.get(port);
        if (holder) throw new BindingConflictError(`port ${port} comes from ${holder.source}, not from the API: remove it there`, holder.source);
        throw new NotFoundError(`no API binding for port ${port}`);
      }
      try {
        await this.deps.files.remove(port);
      } catch (error) {
        throw new PersistError(port, error);
      }
      this.deps.onChange(this.deps.store.delete(id));
      this.deps.logger.info({ port, source: id }, 'API binding deleted');
    });
  }

  private validate(port: string, body: unknown): { binding: PortBinding; result: ParseResult & { ok: true } } {
    const result = parseDocumentValue(body);
    if (!result.ok) throw new InvalidRequestError(result.problems);
    const kind = (body as { kind?: unknown }).kind;
    if (kind !== 'PortBinding' && kind !== 'NeutronPort') {
      throw new InvalidRequestError([{ path: 'kind', message: 'PUT /v1/bindings/{port} takes one PortBinding or NeutronPort, not a list' }]);
    }
    const binding = result.bindings[0]!;
    if (binding.port !== port) throw new InvalidRequestError([{ path: 'port', message: `must equal the port in the URL (${port})` }]);
    return { binding, result };
  }

  /** 409 when another source holds the port, or another port a device name. */
  private assertNoConflict(binding: PortBinding): void {
    const { port } = binding;
    const view = this.deps.store.view();
    const holder = view.bindings.get(port);
    if (holder && holder.source !== apiSourceId(port)) {
      throw new BindingConflictError(`port ${port} is already bound by ${holder.source} (the first accepted keeps it)`, holder.source);
    }
    const spec = resolveSpec(binding);
    for (const name of spec.exclusiveNames) {
      const claimant = view.claimedNames.get(name) ?? this.reserved.get(name);
      if (claimant !== undefined && claimant !== port) throw new BindingConflictError(`device name ${name} is already claimed by port ${claimant}`, claimant);
      const users = [...(view.bridgeUsers.get(name) ?? [])].filter((p) => p !== port);
      if (users.length > 0) throw new BindingConflictError(`device name ${name} is a bridge used by port ${users[0]}`, users[0]!);
    }
    for (const name of spec.sharedNames) {
      const claimant = view.claimedNames.get(name) ?? this.reserved.get(name);
      if (claimant !== undefined && claimant !== port) throw new BindingConflictError(`bridge name ${name} is a device of port ${claimant}`, claimant);
    }
  }

  private async restoreFile(port: string, before: PortBinding | undefined): Promise<void> {
    try {
      if (before) await this.deps.files.write(port, before);
      else await this.deps.files.remove(port);
    } catch (error) {
      this.deps.logger.error({ err: error, port }, 'could not roll back a saved API binding');
    }
  }
}
