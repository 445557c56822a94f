/**
 * The file API against a real smbd behind a tampering proxy: responses no honest server sends
 * (a forged signature, a READ with no data in the middle of a file, a lying EndOfFile, a server
 * that stops answering, directory entries with impossible names). Each ends in a typed error
 * that names the first problem, or in the right bytes; never in a silently wrong result.
 */
import { test, expect } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withCleanup } from './cleanup.js';
import { ProtocolError, SecurityError, TimeoutError } from './errors.js';
import { connectAs, withTarget } from './native-target.fixture.js';
import { withProxy } from './tampering-proxy.fixture.js';
import type { ServerMessage, Tamper } from './tampering-proxy.fixture.js';
import { Command, NtStatus, decodeReadRequest } from './wire/index.js';
import type { Tree } from './tree.js';
import type { StartedNativeTarget } from '../../servers/samba/native.js';

test.describe.configure({ mode: 'parallel' });

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(() => undefined, (error: unknown) => error as Error);
  if (outcome === undefined) throw new Error('expected a failure, but it succeeded');
  return outcome;
}

/** The messages of one command in a server frame. */
function responses(messages: ServerMessage[], command: number): ServerMessage[] {
  return messages.filter((m) => m.header.command === command);
}

/** Connects through a proxy that applies `tamper`, to `share`, runs `use`, and closes everything. */
async function throughProxy(
  target: StartedNativeTarget,
  share: string,
  tamper: Tamper,
  use: (tree: Tree, root: string) => Promise<void>,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const root = target.share(share).localPath;
  if (root === undefined) throw new Error(`${target.name}: share ${share} has no local path`);
  await withProxy(target, tamper, async (proxy) => {
    const client = await connectAs(target, { port: proxy.port, ...options });
    try {
      await use(await client.connectTree(share), root);
    } finally {
      await client.close();
    }
  });
}

test('readdir: a bad signature on QUERY_DIRECTORY is the SecurityError reported, not the failing CLOSE after it', async () => {
  await withTarget('smb311-signing-gmac', async (target) => {
    const tamper: Tamper = (frame, messages) => {
      for (const { message } of responses(messages, Command.QueryDirectory)) message[48] = (message[48] ?? 0) ^ 0x01;
      return frame;
    };
    await throughProxy(target, 'data', tamper, async (tree, root) => {
      writeFileSync(join(root, 'listed.txt'), 'x');
      const error = await failureOf(tree.readdir(''));
      expect(error).toBeInstanceOf(SecurityError);
      expect(error.message).toMatch(/^bad signature on QUERY_DIRECTORY response \(message id \d+, session 0x[0-9a-f]{16}\)$/);
    });
  });
});

/** A server that stops answering for good once it has answered `command` alone (not in a chain with a CREATE). */
function freezeAfter(command: number): Tamper {
  let frozen = false;
  return (frame, messages) => {
    frozen ||= messages.some((m) => m.header.command === command) && !messages.some((m) => m.header.command === Command.Create);
    return frozen ? 'drop' : frame;
  };
}

for (const [operation, command] of [['writeFile', Command.Write], ['readFile', Command.Read]] as const) {
  test(`${operation} on a server that stops answering: the ${operation === 'writeFile' ? 'WRITE' : 'READ'}'s TimeoutError after one timeout, not the cleanup CLOSE's after two`, async () => {
    await withTarget('smb202-legacy', async (target) => {
      const timeoutMs = 1500;
      await throughProxy(target, 'data', freezeAfter(command), async (tree, root) => {
        const data = Buffer.alloc(1 << 20, 0x5a);
        if (operation === 'readFile') writeFileSync(join(root, 'frozen.bin'), data);
        const started = performance.now();
        const error = await failureOf(operation === 'writeFile' ? tree.writeFile('frozen.bin', data) : tree.readFile('frozen.bin'));
        const elapsed = performance.now() - started;
        expect(error, error.message).toBeInstanceOf(TimeoutError);
        const name = operation === 'writeFile' ? 'WRITE' : 'READ';
        expect(error.message).toMatch(/^no response to \S+ .* within \d+ ms$/);
        expect(error.message.startsWith(`no response to ${name} ${tree.path}\\frozen.bin from 127.0.0.1:`)).toBe(true);
        expect(error.message.endsWith(` within ${timeoutMs} ms`)).toBe(true);
        expect(elapsed).toBeLessThan(timeoutMs * 1.6);
      }, { timeoutMs });
    });
  });
}

const MiB = 1 << 20;

/** A file of `size` bytes that no two MiB repeat, on the share's disk. */
function fileOnDisk(root: string, name: string, size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) data.writeUInt32LE(i, i);
  writeFileSync(join(root, name), data);
  return data;
}

/** Edits the first successful READ response to a READ at `offset`. */
function editRead(offset: number, edit: (message: Buffer) => void): Tamper {
  let done = false;
  return (frame, messages) => {
    for (const { header, message, request } of responses(messages, Command.Read)) {
      if (done || request === undefined || header.status !== NtStatus.Success || decodeReadRequest(request).offset !== BigInt(offset)) continue;
      done = true;
      edit(message);
    }
    return frame;
  };
}

const READ_DATA_LENGTH = 64 + 4;

test('readFile: STATUS_SUCCESS with no data in the middle of the file is a ProtocolError naming the offset and the size, not half the file', async () => {
  await withTarget('share-encryption', async (target) => {
    await throughProxy(target, 'plain', editRead(MiB, (message) => message.writeUInt32LE(0, READ_DATA_LENGTH)), async (tree, root) => {
      fileOnDisk(root, 'big.bin', 3 * MiB);
      const error = await failureOf(tree.readFile('big.bin'));
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error.message).toBe(`READ ${tree.path}\\big.bin at offset ${MiB}: STATUS_SUCCESS with no data, but the file is ${3 * MiB} bytes (EndOfFile at CREATE)`);
      expect(error).toMatchObject({ command: 'READ', path: `${tree.path}\\big.bin` });
    });
  });
});

test('readFile: a short READ in the middle of the file is followed by a READ of the rest; the file comes back whole', async () => {
  await withTarget('share-encryption', async (target) => {
    await throughProxy(target, 'plain', editRead(MiB, (message) => message.writeUInt32LE(4096, READ_DATA_LENGTH)), async (tree, root) => {
      const data = fileOnDisk(root, 'big.bin', 3 * MiB);
      const read = await tree.readFile('big.bin');
      expect(read.length).toBe(data.length);
      expect(read.equals(data)).toBe(true);
    });
  });
});

test('readFile: an EndOfFile of 3 GiB for a 1.5 MiB file allocates no more than the data that came; the early end is a ProtocolError', async () => {
  const claimed = 3 * 1024 * MiB;
  const tamper: Tamper = (frame, messages) => {
    for (const { message } of responses(messages, Command.Create)) message.writeBigUInt64LE(BigInt(claimed), 64 + 48);
    return frame;
  };
  await withTarget('share-encryption', async (target) => {
    await throughProxy(target, 'plain', tamper, async (tree, root) => {
      fileOnDisk(root, 'small.bin', 1.5 * MiB);
      const allocUnsafe = Buffer.allocUnsafe;
      let largest = 0;
      Buffer.allocUnsafe = (size: number) => {
        largest = Math.max(largest, size);
        return allocUnsafe(size);
      };
      try {
        const error = await failureOf(tree.readFile('small.bin'));
        expect(error).toBeInstanceOf(ProtocolError);
        expect(error.message).toBe(`READ ${tree.path}\\small.bin at offset ${1.5 * MiB}: STATUS_END_OF_FILE, but the file is ${claimed} bytes (EndOfFile at CREATE)`);
      } finally {
        Buffer.allocUnsafe = allocUnsafe;
      }
      expect(largest).toBeLessThanOrEqual(16 * MiB);
    });
  });
});

for (const raised of [1, 2]) {
  test(`readFile: a READ in the CREATE+READ+CLOSE chain whose DataLength reaches ${raised} byte(s) into the chain's padding is a ProtocolError, not ${5700 + raised} bytes of a 5700-byte file`, async () => {
    await withTarget('smb202-legacy', async (target) => {
      const tamper: Tamper = (frame, messages) => {
        if (responses(messages, Command.Create).length === 0) return frame;
        for (const { message } of responses(messages, Command.Read)) message.writeUInt32LE(message.readUInt32LE(READ_DATA_LENGTH) + raised, READ_DATA_LENGTH);
        return frame;
      };
      await throughProxy(target, 'data', tamper, async (tree, root) => {
        fileOnDisk(root, 'small.bin', 5700);
        const error = await failureOf(tree.readFile('small.bin'));
        expect(error).toBeInstanceOf(ProtocolError);
        expect(error.message).toBe(`READ ${tree.path}\\small.bin at offset 0: ${5700 + raised} bytes of data, past the end of the 5700-byte file (EndOfFile at CREATE)`);
        expect(error).toMatchObject({ command: 'READ', path: `${tree.path}\\small.bin` });
      });
    });
  });
}

test('readdir: an entry whose name holds "/" or "\\", is empty, or holds a lone surrogate is a ProtocolError naming the entry', async () => {
  const marker = Buffer.from('mark_Q', 'utf16le');
  let edit: (message: Buffer, at: number) => void = () => undefined;
  const tamper: Tamper = (frame, messages) => {
    for (const { message } of responses(messages, Command.QueryDirectory)) {
      const at = message.indexOf(marker);
      if (at >= 0) edit(message, at);
    }
    return frame;
  };
  const cases: Array<[string, (message: Buffer, at: number) => void, string]> = [
    ['slash', (m, at) => m.writeUInt16LE(0x2f, at + 10), 'entry "mark_/.txt" is not a file name: it contains "/"'],
    ['backslash', (m, at) => m.writeUInt16LE(0x5c, at + 10), 'entry "mark_\\\\.txt" is not a file name: it contains "\\\\"'],
    ['surrogate', (m, at) => m.writeUInt16LE(0xd800, at + 10), 'entry "mark_\\ud800.txt" is not a file name: it holds a lone surrogate (U+D800)'],
    // FileIdFullDirectoryInformation: FileNameLength is 20 bytes before FileName.
    ['empty', (m, at) => m.writeUInt32LE(0, at - 20), 'entry "" is not a file name: it is empty'],
  ];
  await withTarget('share-encryption', async (target) => {
    await throughProxy(target, 'plain', tamper, async (tree, root) => {
      for (const [dir, change, problem] of cases) {
        mkdirSync(join(root, dir), { mode: 0o777 });
        writeFileSync(join(root, dir, 'mark_Q.txt'), 'x');
        writeFileSync(join(root, dir, 'plain.txt'), 'y');
        edit = () => undefined;
        expect((await tree.readdir(dir)).sort()).toEqual(['mark_Q.txt', 'plain.txt']);
        edit = change;
        const error = await failureOf(tree.readdir(dir));
        expect(error).toBeInstanceOf(ProtocolError);
        expect(error.message).toBe(`QUERY_DIRECTORY ${tree.path}\\${dir}: ${problem}`);
        expect(error).toMatchObject({ command: 'QUERY_DIRECTORY', path: `${tree.path}\\${dir}` });
      }
    });
  });
});

test('exists: a malformed CLOSE response in the chain of a missing file is the ProtocolError reported, not "false"', async () => {
  const tamper: Tamper = (frame, messages) => {
    const failedCreate = messages.some((m) => m.header.command === Command.Create && m.header.status !== NtStatus.Success);
    // The CLOSE answered as if it were a SESSION_SETUP.
    for (const { message } of responses(messages, Command.Close)) if (failedCreate) message.writeUInt16LE(Command.SessionSetup, 12);
    return frame;
  };
  await withTarget('smb202-legacy', async (target) => {
    await throughProxy(target, 'data', tamper, async (tree) => {
      const error = await failureOf(tree.exists('missing.txt'));
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error.message).toMatch(/^response to message \d+ is SESSION_SETUP, but the request was CLOSE$/);
    });
  });
});

const STATUS = 8;

test('STATUS_END_OF_FILE in the middle of a file: readFile, the read stream and FileHandle.read fail naming the offset and the size, never a shorter file', async () => {
  const endOfFile = (message: Buffer) => {
    message.writeUInt32LE(NtStatus.EndOfFile, STATUS);
    message.writeUInt32LE(0, READ_DATA_LENGTH);
  };
  await withTarget('share-encryption', async (target) => {
    for (const read of ['readFile', 'stream', 'handle'] as const) {
      // The stream asks for the whole file in one READ: its first MiB comes, then the READs of the rest.
      const firstMiB = editRead(0, (message) => message.writeUInt32LE(MiB, READ_DATA_LENGTH));
      const atTwoMiB = editRead(2 * MiB, endOfFile);
      const tamper: Tamper = (frame, messages) => atTwoMiB(firstMiB(frame, messages) as Buffer, messages);
      await throughProxy(target, 'plain', tamper, async (tree, root) => {
        fileOnDisk(root, 'big.bin', 3 * MiB);
        const reading = read === 'readFile' ? tree.readFile('big.bin')
          : read === 'stream' ? consume(tree.createReadStream('big.bin'))
            : tree.open('big.bin', 'r').then((handle) => withCleanup(() => handle.read(Buffer.alloc(4 * MiB), 0), () => handle.close()));
        const error = await failureOf(reading);
        expect(error).toBeInstanceOf(ProtocolError);
        expect(error.message).toBe(`READ ${tree.path}\\big.bin at offset ${2 * MiB}: STATUS_END_OF_FILE, but the file is ${3 * MiB} bytes (EndOfFile at CREATE)`);
      });
    }
  });
});

test('a short READ in the middle of a file: FileHandle.read and the read stream read the rest and return every byte', async () => {
  await withTarget('share-encryption', async (target) => {
    for (const read of ['handle', 'stream'] as const) {
      await throughProxy(target, 'plain', editRead(MiB, (message) => message.writeUInt32LE(4096, READ_DATA_LENGTH)), async (tree, root) => {
        const data = fileOnDisk(root, 'big.bin', 3 * MiB);
        let got: Buffer;
        if (read === 'handle') {
          const handle = await tree.open('big.bin', 'r');
          const buffer = Buffer.alloc(4 * MiB);
          got = buffer.subarray(0, await handle.read(buffer, 0));
          await handle.close();
        } else {
          got = await consume(tree.createReadStream('big.bin'));
        }
        expect(got.length).toBe(data.length);
        expect(got.equals(data)).toBe(true);
      });
    }
  });
});

async function consume(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
