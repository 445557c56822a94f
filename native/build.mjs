// Builds native/smb_aead.node (the optional in-place AEAD, clients/smb/crypto/native.ts) with
// the node-gyp npm ships, against Node's own headers; does nothing when it is newer than its
// sources. Run as `npm run build:native` (npm puts node-gyp on PATH and passes its nodedir).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, 'build', 'Release', 'smb_aead.node');
const sources = ['smb_aead.c', 'binding.gyp'].map((file) => join(here, file));
const newest = Math.max(...sources.map((file) => statSync(file).mtimeMs));
if (existsSync(output) && statSync(output).mtimeMs >= newest) {
  console.log(`native AEAD up to date: ${output}`);
  process.exit(0);
}
const result = spawnSync('node-gyp', ['rebuild'], { cwd: here, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (result.error !== undefined || result.status !== 0) {
  const why = result.error?.message ?? result.stderr.split('\n').filter((line) => /ERR!|error/i.test(line)).slice(0, 8).join('\n');
  console.error(`native AEAD not built (node-gyp rebuild in ${here} failed): ${why}\nThe client works without it, decrypting through node:crypto (slower).`);
  process.exit(1);
}
console.log(`native AEAD built: ${output}`);
