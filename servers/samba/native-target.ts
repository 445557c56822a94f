import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { stopProcessGroup } from '../processes.js';
import type { ServerSession } from '../target.js';
import { run } from './accounts.js';
import { parseSmbstatusJson } from './smbstatus.js';
import { StartedSambaServer, type StartedServerInit } from './started-server.js';

/** How long smbd may take to end on SIGTERM before its process group is killed. */
const STOP_GRACE_MS = 3000;

export interface NativeTargetInit extends StartedServerInit {
  root: string;
  confPath: string;
  process: ChildProcess;
  /** The environment under which Samba's tools see the target's private accounts. */
  accountsEnv: NodeJS.ProcessEnv;
}

/** A running native smbd: its private directory, process group and accounts are its own. */
export class StartedNativeTarget extends StartedSambaServer {
  readonly provider = 'native' as const;
  /** Private directory of this server (config, state, accounts, shares). Removed by stop(). */
  readonly root: string;
  readonly confPath: string;

  constructor(private readonly init: NativeTargetInit) {
    super(init);
    this.root = init.root;
    this.confPath = init.confPath;
  }

  /** smbd's process id (the leader of its process group). */
  get pid(): number | undefined {
    return this.init.process.pid;
  }

  async serverSessions(): Promise<ServerSession[]> {
    const result = await run('smbstatus', ['-s', this.confPath, '--json'], { timeoutMs: 10_000, env: this.init.accountsEnv });
    if (result.code !== 0) throw new Error(`smbstatus failed for ${this.name}: ${result.stderr.trim()}`);
    return parseSmbstatusJson(result.stdout);
  }

  protected async release(): Promise<void> {
    await stopProcessGroup(this.init.process, STOP_GRACE_MS);
    await rm(this.root, { recursive: true, force: true });
  }
}
