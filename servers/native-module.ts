/**
 * Loading one of the optional native modules (native/, built by `npm run build:native`) from
 * the sources or from the build, with the reason it is not there when it is not: every caller
 * then goes the slower way it has without it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The module `file` (e.g. `smb_spawn.node`) with every function in `functions`, or why not. */
export function loadNativeModule<T>(file: string, functions: readonly (keyof T & string)[]): { module?: T; reason?: string } {
  // From the sources (servers/) and from the build (dist/servers/).
  const path = [`../native/build/Release/${file}`, `../../native/build/Release/${file}`]
    .map((candidate) => fileURLToPath(new URL(candidate, import.meta.url)))
    .find((candidate) => existsSync(candidate));
  if (path === undefined) return { reason: `native/${file} is not built (npm run build:native)` };
  try {
    const loaded = createRequire(import.meta.url)(path) as Partial<T>;
    const missing = functions.filter((name) => typeof loaded[name] !== 'function');
    if (missing.length > 0) return { reason: `${path} lacks ${missing.join(' and ')} (rebuild it: npm run build:native)` };
    return { module: loaded as T };
  } catch (error) {
    return { reason: `${path} did not load: ${error instanceof Error ? error.message : String(error)}` };
  }
}
