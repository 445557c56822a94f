/**
 * The Docker engine as the container provider uses it: one dockerode client, an availability
 * check with a short timeout, exec with stdin and a time limit, and removal of containers by
 * label — asynchronously on the normal path, with the docker CLI on the exit/signal path (where
 * nothing asynchronous runs any more), and for leftovers of runs that were killed.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { processAlive } from '../processes.js';
import type { CommandResult } from './accounts.js';

/** Labels on every container the provider starts. */
export const LABELS = {
  ownerPid: 'smb-interop.owner-pid',
  ownerHost: 'smb-interop.owner-host',
  instance: 'smb-interop.instance',
  target: 'smb-interop.target',
  hostRoot: 'smb-interop.host-root',
} as const;

/** The labels of a target's container: whose run it belongs to (the sweep of killed runs reads them), which target, where its host directory is. */
export function targetLabels(target: string, instance: string, hostRoot: string): Record<string, string> {
  return {
    [LABELS.ownerPid]: String(process.pid),
    [LABELS.ownerHost]: hostname(),
    [LABELS.instance]: instance,
    [LABELS.target]: target,
    [LABELS.hostRoot]: hostRoot,
  };
}

/** Host directories holding the shares of container targets: `<tmpdir>/smb-interop-container-<profile>-XXXXXX`. */
export const HOST_DIR_PREFIX = 'smb-interop-container-';

function isOurHostDir(path: string): boolean {
  return dirname(path) === tmpdir() && basename(path).startsWith(HOST_DIR_PREFIX);
}

let client: Docker | undefined;

/**
 * The engine of DOCKER_HOST, or the local socket. dockerode is loaded on first use: with what it
 * brings (gRPC, protobufjs, ssh2) it cost every matrix worker, native targets' included, about
 * 0.15 s of CPU at its start.
 */
export function docker(): Docker {
  client ??= new (createRequire(import.meta.url)('dockerode') as typeof Docker)();
  return client;
}

/** An engine call that does not answer within `ms` rejects, naming what was asked. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function engineAddress(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/** Whether a container engine answers, within `timeoutMs`; the reason says where it looked and how to get one. */
export async function containerEngineAvailable(timeoutMs = 3000): Promise<{ ok: boolean; reason?: string }> {
  try {
    await withTimeout(docker().ping(), timeoutMs, `Docker engine at ${engineAddress()}`);
    return { ok: true };
  } catch (e) {
    const why = (e as Error).message.replace(/\s+/g, ' ').trim();
    return {
      ok: false,
      reason: `no container engine answers at ${engineAddress()} (${why}); start Docker, or run scripts/bootstrap-docker.sh on Debian`,
    };
  }
}

/** Runs a command in a running container; never rejects for a non-zero exit (the caller decides). */
export async function execInContainer(containerId: string, cmd: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const container = docker().getContainer(containerId);
  const exec = await container.exec({
    Cmd: cmd, AttachStdin: options.input !== undefined, AttachStdout: true, AttachStderr: true, Tty: false,
  });
  const stream = await exec.start({ hijack: true, stdin: options.input !== undefined });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  docker().modem.demuxStream(stream, stdout, stderr);
  const finished = new Promise<void>((resolveDone, reject) => {
    stream.once('end', () => resolveDone());
    stream.once('close', () => resolveDone());
    stream.once('error', reject);
  });
  if (options.input !== undefined) stream.end(options.input);
  try {
    await withTimeout(finished, timeoutMs, `${cmd[0]} in container ${containerId.slice(0, 12)}`);
  } catch (e) {
    stream.destroy();
    throw e;
  }
  const info = await exec.inspect();
  return { code: info.ExitCode ?? null, stdout: out, stderr: err };
}

/** Removes the containers carrying `label=value` (and the host directory a label names) with the docker CLI, synchronously. */
export function removeContainersSync(label: string, value: string): void {
  const list = spawnSync('docker', ['ps', '-aq', '--filter', `label=${label}=${value}`], { encoding: 'utf8', timeout: 10_000 });
  const ids = (list.stdout ?? '').split(/\s+/).filter(Boolean);
  if (ids.length > 0) spawnSync('docker', ['rm', '-f', '-v', ...ids], { stdio: 'ignore', timeout: 20_000 });
}

/** Force-removes one container and its anonymous volumes; a container already gone is not an error. */
export async function removeContainer(containerId: string): Promise<void> {
  try {
    await withTimeout(docker().getContainer(containerId).remove({ force: true, v: true }), 20_000, `removing container ${containerId.slice(0, 12)}`);
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) throw e;
  }
}

/** Removes the containers carrying `label=value`, through the engine API. */
export async function removeContainersByLabel(label: string, value: string): Promise<void> {
  const found = await withTimeout(
    docker().listContainers({ all: true, filters: { label: [`${label}=${value}`] } }),
    10_000,
    `listing containers labelled ${label}=${value}`,
  );
  for (const c of found) await removeContainer(c.Id);
}

/**
 * Removes containers (and their share directories) left by runs on this machine whose process no
 * longer exists: a run killed with SIGKILL cannot clean up after itself.
 */
export async function sweepStaleContainers(): Promise<number> {
  const containers = await withTimeout(
    docker().listContainers({ all: true, filters: { label: [LABELS.ownerPid] } }),
    10_000,
    'listing the containers of earlier runs',
  );
  let swept = 0;
  for (const c of containers) {
    const labels = c.Labels ?? {};
    if (labels[LABELS.ownerHost] !== hostname()) continue;
    if (processAlive(Number(labels[LABELS.ownerPid]))) continue;
    await removeContainer(c.Id);
    const root = labels[LABELS.hostRoot];
    if (root && isOurHostDir(root)) rmSync(root, { recursive: true, force: true });
    swept++;
  }
  return swept;
}
