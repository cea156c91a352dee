// Where vifd's native helpers live: $<ENV>, else native/build/<name> in the
// nearest enclosing project dir, else /usr/libexec/vifd/<name>.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function nativeToolPath(name: string, envVar: string): string {
  const env = process.env[envVar];
  if (env) return env;
  const rel = join('native', 'build', name);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, rel);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join('/usr/libexec/vifd', name);
}
