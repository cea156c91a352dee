import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiBindingFiles } from '../../src/api/binding-files.js';
import { BindingsService } from '../../src/api/bindings-service.js';
import { BindingConflictError, InvalidRequestError, PersistError } from '../../src/api/errors.js';
import { DesiredStore } from '../../src/desired/store.js';
import type { PortBinding } from '../../src/desired/schema.js';

const PORT = '3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f';
const OTHER = '4f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f';
const doc = (port = PORT, extra: Record<string, unknown> = {}) => ({ apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac: 'fa:16:3e:5d:12:7a', vif: { type: 'bridge', bridge: 'br0' }, ...extra });
const dirs: string[] = [];

function service(files?: ApiBindingFiles) {
  const dir = mkdtempSync(join(tmpdir(), 'vifd-apisvc-'));
  dirs.push(dir);
  const store = new DesiredStore();
  const changed: string[][] = [];
  const svc = new BindingsService({ store, files: files ?? new ApiBindingFiles(dir), onChange: (p) => changed.push([...p]), logger: pino({ level: 'silent' }) });
  return { svc, store, changed, dir };
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('BindingsService', () => {
  it('PUT persists, then sets source api:<port>; an identical PUT changes nothing; DELETE removes both', async () => {
    const { svc, store, changed, dir } = service();
    await svc.load();
    expect(await svc.put(PORT, doc())).toMatchObject({ created: true, changed: true });
    expect(store.view().bindings.get(PORT)?.source).toBe(`api:${PORT}`);
    expect(await svc.put(PORT, doc())).toMatchObject({ created: false, changed: false });
    expect(changed).toEqual([[PORT]]);
    const reloaded = service(new ApiBindingFiles(dir));
    expect(await reloaded.svc.load()).toBe(1);
    expect(reloaded.store.view().bindings.get(PORT)?.source).toBe(`api:${PORT}`);
    await svc.delete(PORT);
    expect(store.view().bindings.has(PORT)).toBe(false);
    expect(await service(new ApiBindingFiles(dir)).svc.load()).toBe(0);
  });

  it('a failed write applies nothing', async () => {
    const files = new ApiBindingFiles('/nonexistent');
    files.write = async () => {
      throw new Error('disk full');
    };
    const { svc, store, changed } = service(files);
    await expect(svc.put(PORT, doc())).rejects.toBeInstanceOf(PersistError);
    expect(store.view().bindings.size).toBe(0);
    expect(changed).toEqual([]);
  });

  it('refuses a port held by another source and a tap name held by another port (409)', async () => {
    const { svc, store } = service();
    store.set('file:a.json', { ok: true, bindings: [doc() as unknown as PortBinding] });
    await expect(svc.put(PORT, doc())).rejects.toBeInstanceOf(BindingConflictError);
    await expect(svc.delete(PORT)).rejects.toBeInstanceOf(BindingConflictError);
    const sameTap = doc(OTHER, { vif: { type: 'bridge', bridge: 'br0', tap: 'tap3f2a8c71-5b' } });
    await expect(svc.put(OTHER, sameTap)).rejects.toThrow(/already claimed by port 3f2a8c71/u);
  });

  it('two concurrent PUTs claiming the same tap: one wins, the other gets 409', async () => {
    const { svc } = service();
    await svc.load();
    const a = svc.put(PORT, doc(PORT, { vif: { type: 'bridge', bridge: 'br0', tap: 'tapshared' } }));
    const b = svc.put(OTHER, doc(OTHER, { vif: { type: 'bridge', bridge: 'br0', tap: 'tapshared' } }));
    const results = await Promise.allSettled([a, b]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')?.reason).toBeInstanceOf(BindingConflictError);
  });

  it('400: schema problems, a list, a port mismatch', async () => {
    const { svc } = service();
    await expect(svc.put(PORT, doc(PORT, { mtu: 1 }))).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(svc.put(PORT, { apiVersion: 'vifd/v1', kind: 'PortBindingList', items: [doc()] })).rejects.toThrow(/not a list/u);
    await expect(svc.put(PORT, doc(OTHER))).rejects.toThrow(/must equal the port in the URL/u);
  });

  it('a damaged saved file is reported Invalid on its own port only', async () => {
    const { dir } = service();
    mkdirSync(join(dir, 'api-bindings'), { recursive: true });
    writeFileSync(join(dir, 'api-bindings', `${PORT}.json`), JSON.stringify(doc(OTHER)));
    const { svc, store } = service(new ApiBindingFiles(dir));
    await svc.load();
    expect([...store.view().invalidOnly.keys()]).toEqual([PORT]);
    expect(store.view().bindings.size).toBe(0);
  });
});
