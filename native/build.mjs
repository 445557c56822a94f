// Builds the optional native modules with the node-gyp npm ships, against Node's own headers:
// native/build/Release/smb_aead.node (the in-place AEAD, clients/smb/crypto/native.ts),
// smb_spawn.node (client processes started without forking the harness, servers/spawn.ts) and
// smb_capture.node (the passive loopback capture, harness/capture/passive.ts). Does
// nothing when all are newer than their sources. Run as `npm run build:native` (npm puts
// node-gyp on PATH and passes its nodedir).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outputs = ['smb_aead.node', 'smb_spawn.node', 'smb_capture.node'].map((file) => join(here, 'build', 'Release', file));
const sources = ['smb_aead.c', 'smb_spawn.c', 'smb_capture.c', 'binding.gyp'].map((file) => join(here, file));
const newest = Math.max(...sources.map((file) => statSync(file).mtimeMs));
if (outputs.every((output) => existsSync(output) && statSync(output).mtimeMs >= newest)) {
  console.log(`native modules up to date: ${outputs.join(', ')}`);
  process.exit(0);
}
const result = spawnSync('node-gyp', ['rebuild'], { cwd: here, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (result.error !== undefined || result.status !== 0) {
  const why = result.error?.message ?? result.stderr.split('\n').filter((line) => /ERR!|error/i.test(line)).slice(0, 8).join('\n');
  console.error(`native modules not built (node-gyp rebuild in ${here} failed): ${why}\nEverything works without them: the client decrypts through node:crypto, client processes start through child_process and cells capture through the relaying proxy (all slower).`);
  process.exit(1);
}
console.log(`native modules built: ${outputs.join(', ')}`);
