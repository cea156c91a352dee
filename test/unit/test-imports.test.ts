// The test tree stands on its own: benchmarks may import test/support and
// test/helpers, never the other way round, so a benchmark can change (or go)
// without breaking a test. Until a dependency rule file states the arrows,
// this scans every import specifier under test/ and fails on one into bench/.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/repo-root.js';

const ROOT = repoRoot();
const BENCH = join(ROOT, 'bench');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Static imports and re-exports (`from '...'`), side-effect imports and dynamic `import('...')`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/gu;

function specifiers(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((m) => m[1]!);
}

function intoBench(file: string, specifier: string): boolean {
  if (!specifier.startsWith('.')) return false;
  const target = resolve(dirname(file), specifier);
  return target === BENCH || target.startsWith(BENCH + '/');
}

describe('test imports', () => {
  it('finds every kind of import specifier', () => {
    // Built from parts, so this file's own text names no path into bench/.
    const bench = ['..', '..', 'bench'].join('/');
    const source = [
      `import { a } from '${bench}/chaos/world.js';`,
      'import type { B } from "../x.js";',
      "export { c } from './c.js';",
      "import './side-effect.js';",
      `const d = await import('${bench}/soak/run.js');`,
    ].join('\n');
    expect(specifiers(source)).toEqual([`${bench}/chaos/world.js`, '../x.js', './c.js', './side-effect.js', `${bench}/soak/run.js`]);
    expect(intoBench(join(ROOT, 'test/unit/x.test.ts'), `${bench}/chaos/world.js`)).toBe(true);
    expect(intoBench(join(ROOT, 'test/unit/x.test.ts'), '../support/chaos/world.js')).toBe(false);
    expect(intoBench(join(ROOT, 'test/unit/x.test.ts'), '../../benchmarks.js')).toBe(false);
  });

  it('no file under test/ imports from bench/', () => {
    const offenders = tsFiles(join(ROOT, 'test')).flatMap((file) =>
      specifiers(readFileSync(file, 'utf8'))
        .filter((s) => intoBench(file, s))
        .map((s) => `${relative(ROOT, file)}: ${s}`),
    );
    expect(offenders).toEqual([]);
  });
});
