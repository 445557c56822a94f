/**
 * Samba images for the container provider, built from docker/samba/Dockerfile once per Debian
 * suite and cached by content: the tag is a hash of the build context and the suite, so an image
 * is reused while its Dockerfile is unchanged and rebuilt (the old one removed) when it changes.
 * Concurrent runs on one machine build each image once (a lock directory in the temp dir).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SAMBA_IMAGES, type SambaImageName } from '../catalog/targets.js';
import { processAlive } from '../processes.js';
import { docker } from './container-engine.js';

export const IMAGE_REPOSITORY = 'smb-interop/samba';
const IMAGE_LABEL = 'smb-interop.image';
const SUITE_LABEL = 'smb-interop.suite';
const BUILD_TIMEOUT_MS = 10 * 60_000;

/** A failed build, with the builder's last lines. */
export class ImageBuildError extends Error {
  readonly code = 'SMB_INTEROP_IMAGE_BUILD';
  constructor(readonly image: string, reason: string, readonly buildLogTail = '') {
    super(`building ${image} failed: ${reason}${buildLogTail ? `\n--- docker build (last lines) ---\n${buildLogTail}` : ''}`);
    this.name = 'ImageBuildError';
  }
}

/** The images the project builds: docker/samba (smbd) and docker/samba-ad-dc (a provisioned AD DC). */
export type ImageKind = 'samba' | 'samba-ad-dc';

/** docker/<kind>, found by walking up from this module (it runs from the source tree and from dist/). */
export function sambaBuildContext(kind: ImageKind = 'samba'): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    const candidate = join(dir, 'docker', kind);
    if (existsSync(join(candidate, 'Dockerfile'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`docker/${kind}/Dockerfile was not found above servers/samba`);
}

/** `smb-interop/samba:<suite>-<12 hex of sha256(context files, suite)>` (`smb-interop/samba-ad-dc:...` for the DC's). */
export function sambaImageTag(image: SambaImageName, context = sambaBuildContext(), kind: ImageKind = 'samba'): string {
  const { suite } = SAMBA_IMAGES[image];
  const repository = kind === 'samba' ? IMAGE_REPOSITORY : `${IMAGE_REPOSITORY}-ad-dc`;
  const hash = createHash('sha256').update(`suite=${suite}\n`);
  for (const file of readdirSync(context).sort()) {
    hash.update(`${file}\n`).update(readFileSync(join(context, file))).update('\n');
  }
  return `${repository}:${suite}-${hash.digest('hex').slice(0, 12)}`;
}

async function imageExists(tag: string): Promise<boolean> {
  try {
    await docker().getImage(tag).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

/** One build at a time per tag across processes; a lock whose owner died is taken over. */
async function withBuildLock<T>(tag: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), `smb-interop-build-${tag.replace(/[^A-Za-z0-9-]/g, '_')}.lock`);
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // The owner is between mkdir and writing its pid: wait.
      }
      if (!Number.isNaN(owner) && !processAlive(owner)) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`another process has been building ${tag} for too long (lock ${lock})`);
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

async function build(image: SambaImageName, tag: string, context: string, kind: ImageKind | undefined): Promise<void> {
  const { suite } = SAMBA_IMAGES[image];
  // Only the project's own images take part in the removal of outdated images.
  const labels: Record<string, string> = kind !== undefined ? { [IMAGE_LABEL]: kind, [SUITE_LABEL]: suite } : { [IMAGE_LABEL]: 'samba-custom' };
  const stream = await docker().buildImage({ context, src: readdirSync(context) }, {
    t: tag,
    buildargs: { DEBIAN_SUITE: suite },
    labels,
    // apt-get reaches the Debian mirror the way the host does; no bridge network is needed.
    networkmode: 'host',
    rm: true,
    forcerm: true,
  });
  const lines: string[] = [];
  let failure: string | undefined;
  const finished = new Promise<void>((resolveBuild, reject) => {
    docker().modem.followProgress(
      stream,
      (err) => (err ? reject(err) : resolveBuild()),
      (event: BuildEvent) => {
        if (event.stream) lines.push(...event.stream.split('\n').filter((l) => l.trim() !== ''));
        if (event.error) failure = event.errorDetail?.message ?? event.error;
      },
    );
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${BUILD_TIMEOUT_MS / 1000} s`)), BUILD_TIMEOUT_MS);
  });
  try {
    await Promise.race([finished, timedOut]);
  } catch (e) {
    (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    throw new ImageBuildError(tag, (e as Error).message, lines.slice(-15).join('\n'));
  } finally {
    clearTimeout(timer);
  }
  if (failure) {
    const base = `debian:${suite}-slim`;
    const hint = /pull access denied|not found|manifest unknown|no such host/i.test(failure)
      ? ` (the base image ${base} is missing and no registry is reachable: run scripts/bootstrap-docker.sh to seed it)`
      : '';
    throw new ImageBuildError(tag, `${failure.trim()}${hint}`, lines.slice(-15).join('\n'));
  }
}

/** Removes this suite's images of a kind built from an earlier Dockerfile; one still used by a container stays. */
async function removeOutdatedImages(kind: ImageKind, suite: string, current: string): Promise<void> {
  const images = await docker().listImages({ filters: { label: [`${IMAGE_LABEL}=${kind}`, `${SUITE_LABEL}=${suite}`] } });
  for (const info of images) {
    if ((info.RepoTags ?? []).includes(current)) continue;
    try {
      await docker().getImage(info.Id).remove({ force: false });
    } catch {
      // In use by a container of another run: its own next start removes it.
    }
  }
}

/**
 * The tag of a Samba image, built first when this machine does not have it. `context` replaces
 * docker/samba (e.g. a Dockerfile with a patched Samba); its images are kept beside the standard ones.
 */
export async function ensureSambaImage(image: SambaImageName, context?: string, kind: ImageKind = 'samba'): Promise<string> {
  const own = context === undefined ? kind : undefined;
  const dir = context ?? sambaBuildContext(kind);
  const tag = sambaImageTag(image, dir, kind);
  if (await imageExists(tag)) return tag;
  await withBuildLock(tag, async () => {
    if (await imageExists(tag)) return;
    await build(image, tag, dir, own);
    if (own !== undefined) await removeOutdatedImages(own, SAMBA_IMAGES[image].suite, tag);
  });
  return tag;
}
