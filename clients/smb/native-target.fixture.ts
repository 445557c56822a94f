/** Helpers for the client's integration tests against native Samba targets. */
import { test } from '@playwright/test';
import { findProfile, resolveProfiles } from '../../servers/catalog/index.js';
import type { Profile } from '../../servers/catalog/index.js';
import { startNativeTarget } from '../../servers/samba/native.js';
import type { StartedNativeTarget } from '../../servers/samba/native.js';
import type { ServerSession } from '../../servers/target.js';
import { SmbClient } from './client.js';
import type { SmbClientOptions } from './client.js';
import type { SmbMessageEvent, SmbObserver, SmbSessionKeys } from './observer.js';
import type { Tree } from './tree.js';

const profiles = resolveProfiles({});

export function profile(name: string): Profile {
  return findProfile(profiles, name);
}

/** Starts a target for the profile, runs `use`, always stops the target. */
export async function withTarget<T>(
  name: string,
  use: (target: StartedNativeTarget) => Promise<T>,
): Promise<T> {
  const target = await startNativeTarget(profile(name));
  try {
    return await use(target);
  } finally {
    await target.stop();
  }
}

/** SmbClient.connect as the target's first user, with a short timeout. */
export function connectAs(target: StartedNativeTarget, options: Partial<SmbClientOptions> = {}): Promise<SmbClient> {
  const user = target.user();
  return SmbClient.connect({
    host: target.host,
    port: target.port,
    username: user.username,
    password: user.password,
    timeoutMs: 5000,
    ...options,
  });
}

/** An observer that records everything it sees. */
export function recorder(): SmbObserver & { messages: SmbMessageEvent[]; keys: SmbSessionKeys[] } {
  const messages: SmbMessageEvent[] = [];
  const keys: SmbSessionKeys[] = [];
  return {
    messages,
    keys,
    onMessage: (event) => messages.push({ ...event, bytes: Buffer.from(event.bytes) }),
    onSessionKeys: (k) => keys.push(k),
  };
}

/** `send TREE_CONNECT enc sig` lines: a readable transcript to compare in assertions. */
export function transcript(messages: readonly SmbMessageEvent[]): string[] {
  return messages.map((m) => `${m.direction} ${m.command}${m.direction === 'receive' ? ` ${m.statusName}` : ''}${m.encrypted ? ' encrypted' : ''}${m.signed ? ' signed' : ''}`);
}

/** The server's view of the one session of `username`, polled until it shows `trees` trees. */
export async function serverSession(target: StartedNativeTarget, username: string, trees = 0): Promise<ServerSession> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const sessions = await target.serverSessions();
    const mine = sessions.find((s) => s.username === username && s.trees.length >= trees);
    if (mine !== undefined) return mine;
    if (Date.now() > deadline) throw new Error(`${target.name}: no session of ${username} with ${trees} trees; smbstatus shows ${JSON.stringify(sessions)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface TreeOnTarget {
  target: StartedNativeTarget;
  client: SmbClient;
  tree: Tree;
  /** The share's directory on disk: the oracle the tests compare against. */
  root: string;
}

/**
 * A describe block whose tests share one started target and one connected tree of its
 * `data` share (started once, stopped after the last test).
 */
export function describeOnTarget(name: string, body: (context: () => TreeOnTarget) => void): void {
  test.describe(name, () => {
    let context: TreeOnTarget | undefined;
    let target: StartedNativeTarget | undefined;
    test.beforeAll(async () => {
      target = await startNativeTarget(profile(name));
      const client = await connectAs(target, { timeoutMs: 30_000 });
      const tree = await client.connectTree('data');
      const root = target.share('data').localPath;
      if (root === undefined) throw new Error(`${target.name}: the data share has no local path`);
      context = { target, client, tree, root };
    });
    test.afterAll(async () => {
      await context?.client.close();
      await target?.stop();
    });
    body(() => {
      if (context === undefined) throw new Error(`${name}: the target did not start`);
      return context;
    });
  });
}
