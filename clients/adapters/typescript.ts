/** This project's TypeScript client, in-process, behind the ClientAdapter interface. */
import { SmbClient, SmbError } from '../smb/index.js';
import type { SmbClientOptions, Tree } from '../smb/index.js';
import { AdapterError } from './adapter.js';
import type { AdapterConnectOptions, AdapterEntry, AdapterSession, ClientAdapter } from './adapter.js';

const CLIENT = 'smb-ts';

class TypescriptSession implements AdapterSession {
  readonly client = CLIENT;

  constructor(
    readonly smb: SmbClient,
    readonly tree: Tree,
  ) {}

  private async call<T>(operation: string, path: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof SmbError) throw new AdapterError(error.message, CLIENT, operation, path, error.statusName, { cause: error });
      throw error;
    }
  }

  writeFile(path: string, data: Buffer): Promise<void> {
    return this.call('writeFile', path, () => this.tree.writeFile(path, data));
  }

  readFile(path: string): Promise<Buffer> {
    return this.call('readFile', path, () => this.tree.readFile(path));
  }

  stat(path: string): Promise<{ size: number; isDirectory: boolean }> {
    return this.call('stat', path, async () => {
      const s = await this.tree.stat(path);
      return { size: s.size, isDirectory: s.isDirectory };
    });
  }

  readdir(path: string): Promise<AdapterEntry[]> {
    return this.call('readdir', path, async () => {
      const entries = await this.tree.readdir(path, { withFileTypes: true });
      return entries
        .map((e) => ({ name: e.name, isDirectory: e.isDirectory, size: e.isDirectory ? 0 : e.size }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    });
  }

  mkdir(path: string): Promise<void> {
    return this.call('mkdir', path, () => this.tree.mkdir(path));
  }

  rmdir(path: string): Promise<void> {
    return this.call('rmdir', path, () => this.tree.rmdir(path));
  }

  unlink(path: string): Promise<void> {
    return this.call('unlink', path, () => this.tree.unlink(path));
  }

  rename(from: string, to: string, options: { replace?: boolean } = {}): Promise<void> {
    return this.call('rename', from, () => this.tree.rename(from, to, options));
  }

  exists(path: string): Promise<boolean> {
    return this.call('exists', path, () => this.tree.exists(path));
  }

  async close(): Promise<void> {
    await this.smb.close();
  }
}

/** The TypeScript client; `options` are passed to SmbClient.connect (observer, dialects, ...). */
export function typescriptAdapter(options: Partial<SmbClientOptions> = {}): ClientAdapter {
  return {
    id: CLIENT,
    async connect(target: AdapterConnectOptions): Promise<AdapterSession> {
      const smb = await SmbClient.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        password: target.password,
        domain: target.domain,
        timeoutMs: target.timeoutMs,
        ...(target.auth === undefined ? {} : { auth: target.auth }),
        ...options,
        // The target's realm, KDC and host name, with the caller's own Kerberos options (a skewed clock) on top.
        ...(target.kerberos === undefined ? {} : { kerberos: { ...target.kerberos, ...options.kerberos } }),
      });
      try {
        return new TypescriptSession(smb, await smb.connectTree(target.share));
      } catch (error) {
        await smb.close();
        throw error;
      }
    },
  };
}
