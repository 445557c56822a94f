/**
 * Directory change notification (MS-SMB2 3.2.4.16): one CHANGE_NOTIFY outstanding at a time on
 * a directory handle, re-issued after each answer. close() cancels the outstanding request
 * (CANCEL, MS-SMB2 3.2.4.24); its STATUS_CANCELLED answer is the normal end of the watch.
 */
import { SmbError } from './errors.js';
import { closeHandle, openHandle } from './handles.js';
import { displayPath, toSharePath } from './paths.js';
import type { TreeConnection } from './tree-connection.js';
import {
  AccessMask,
  CHANGE_NOTIFY_WATCH_TREE,
  Command,
  CompletionFilter,
  CreateDisposition,
  CreateOption,
  NotifyAction,
  NtStatus,
  decodeChangeNotifyResponse,
  encodeChangeNotifyRequest,
} from './wire/index.js';

export interface WatchOptions {
  /** Also report changes in subdirectories (SMB2_WATCH_TREE). */
  recursive?: boolean;
  /** Aborting closes the watcher. */
  signal?: AbortSignal;
}

export interface WatchEvent {
  action: 'added' | 'removed' | 'modified' | 'renamed-from' | 'renamed-to';
  /** Relative to the watched directory, `/`-separated. */
  name: string;
}

export interface Watcher extends AsyncIterable<WatchEvent> {
  /** Cancels the outstanding CHANGE_NOTIFY and closes the directory; iteration then ends. */
  close(): Promise<void>;
}

const FILTER = CompletionFilter.FileName | CompletionFilter.DirName | CompletionFilter.Attributes | CompletionFilter.Size
  | CompletionFilter.LastWrite | CompletionFilter.Creation;
const MAX_NOTIFY_BUFFER = 64 * 1024;

function actionOf(action: number): WatchEvent['action'] {
  switch (action) {
    case NotifyAction.Added: return 'added';
    case NotifyAction.Removed:
    case NotifyAction.RemovedByDelete: return 'removed';
    case NotifyAction.RenamedOldName: return 'renamed-from';
    case NotifyAction.RenamedNewName: return 'renamed-to';
    default: return 'modified';
  }
}

class DirectoryWatcher implements Watcher {
  private readonly events: WatchEvent[] = [];
  private readonly waiting: Array<{ resolve(result: IteratorResult<WatchEvent>): void; reject(error: Error): void }> = [];
  private readonly stop = new AbortController();
  private failure: Error | undefined;
  private finished = false;
  private readonly running: Promise<void>;

  constructor(private readonly tree: TreeConnection, private readonly sharePath: string, private readonly options: WatchOptions) {
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.stop.abort();
      else signal.addEventListener('abort', () => void this.close(), { once: true });
    }
    this.running = this.run().catch((error: unknown) => {
      this.failure = error as Error;
    }).finally(() => {
      this.finished = true;
      for (const waiter of this.waiting.splice(0)) {
        if (this.failure !== undefined) waiter.reject(this.failure);
        else waiter.resolve({ done: true, value: undefined });
      }
    });
  }

  private async run(): Promise<void> {
    const path = displayPath(this.tree.path, this.sharePath);
    const directory = await openHandle(this.tree, this.sharePath, {
      desiredAccess: AccessMask.FileReadData | AccessMask.FileReadAttributes | AccessMask.Synchronize,
      createDisposition: CreateDisposition.Open,
      createOptions: CreateOption.DirectoryFile,
    });
    const length = Math.min(this.tree.limits.maxTransactSize, MAX_NOTIFY_BUFFER);
    try {
      while (!this.stop.signal.aborted) {
        const response = await this.tree.request({
          command: Command.ChangeNotify,
          body: encodeChangeNotifyRequest({
            flags: this.options.recursive === true ? CHANGE_NOTIFY_WATCH_TREE : 0,
            outputBufferLength: length,
            fileId: directory.fileId,
            completionFilter: FILTER,
          }),
          payloadSize: length,
          // Answered STATUS_PENDING at once, completed whenever something changes.
          pendingTimeoutMs: null,
          signal: this.stop.signal,
          okStatuses: [NtStatus.NotifyEnumDir],
          path,
        });
        for (const change of decodeChangeNotifyResponse(response.message)) {
          this.deliver({ action: actionOf(change.action), name: change.fileName.replaceAll('\\', '/') });
        }
      }
    } catch (error) {
      const cancelled = error instanceof SmbError && error.status === NtStatus.Cancelled && this.stop.signal.aborted;
      if (!cancelled) throw error;
    } finally {
      await closeHandle(this.tree, directory.fileId, path).catch(() => undefined);
    }
  }

  private deliver(event: WatchEvent): void {
    if (this.stop.signal.aborted) return;
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter.resolve({ done: false, value: event });
    else this.events.push(event);
  }

  /** Events not yet taken are dropped: after close() iteration ends at once. */
  async close(): Promise<void> {
    this.stop.abort();
    this.events.length = 0;
    await this.running;
    this.events.length = 0;
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => {
        const event = this.events.shift();
        if (event !== undefined) return Promise.resolve({ done: false, value: event });
        if (this.finished) return this.failure !== undefined ? Promise.reject(this.failure) : Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
      },
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }
}

export function watch(tree: TreeConnection, path: string, options: WatchOptions = {}): Watcher {
  return new DirectoryWatcher(tree, toSharePath(path, 'watch'), options);
}
