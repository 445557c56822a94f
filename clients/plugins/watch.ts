/**
 * A session seen through the harness: an operation the client did not declare is refused as
 * ClientUnsupported before it reaches the client, and every error (a plug-in fault, a refusal, a
 * failed operation) is shown to `onError` before the scenario sees it, so the cell can record what
 * kind of error it was even when the scenario catches it.
 */
import type { AdapterSession } from '../adapters/adapter.js';
import { ClientUnsupported } from './needs.js';
import type { Capabilities, Operation } from './protocol.js';

/** `client` is the registered id, which the cell names (an in-process adapter may call itself otherwise). */
export function watchSession(client: string, session: AdapterSession, capabilities: Capabilities, onError: (error: unknown) => void): AdapterSession {
  const guard = <A extends unknown[], R>(op: Operation | 'close', call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        if (op !== 'close' && !capabilities.operations.includes(op)) {
          throw new ClientUnsupported(client, `${client} does not implement ${op}, which the scenario uses (it implements ${capabilities.operations.join(', ') || 'none'})`);
        }
        return await call.apply(session, args);
      } catch (error) {
        onError(error);
        throw error;
      }
    };
  const watched: AdapterSession = {
    client: session.client,
    writeFile: guard('writeFile', session.writeFile),
    readFile: guard('readFile', session.readFile),
    stat: guard('stat', session.stat),
    readdir: guard('readdir', session.readdir),
    mkdir: guard('mkdir', session.mkdir),
    rmdir: guard('rmdir', session.rmdir),
    unlink: guard('unlink', session.unlink),
    rename: guard('rename', session.rename),
    exists: guard('exists', session.exists),
    close: guard('close', session.close),
  };
  if (session.diagnostics) watched.diagnostics = session.diagnostics.bind(session);
  return watched;
}
