// vifd's version: package.json's, inlined by the bundler (scripts/bundle.mjs
// defines __VIFD_VERSION__); unbundled (tests), read from the package.json
// above this module.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const __VIFD_VERSION__: string | undefined;

export function version(): string {
  if (typeof __VIFD_VERSION__ === 'string') return __VIFD_VERSION__;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'vifd' && pkg.version) return pkg.version;
    } catch {
      // not here; look further up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}
