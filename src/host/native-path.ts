// Where a native helper (native/build/NAME) is: $ENV_VAR, else
// native/build/NAME in the nearest enclosing directory of this module (a
// checkout: dist/..., the Debian package: /usr/lib/vifd/dist/vifd.mjs), else
// /usr/lib/vifd/native/build/NAME.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function nativeHelperPath(name: string, envVar: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) return fromEnv;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'native', 'build', name);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join('/usr/lib/vifd/native/build', name);
}
