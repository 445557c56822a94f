#!/usr/bin/env node
/**
 * A plug-in driver that breaks the protocol on purpose, for the host's tests. Its first argument
 * says how:
 *   crash       says hello, answers connect, then exits with code 3 in the middle of the next request
 *   panic       as crash, but its stderr is a Go runtime panic: the cause first, then a stack, exit code 2
 *   hang        says hello, answers connect, then never answers again
 *   garbage     says hello, then answers connect with a line that is not JSON
 *   protocol99  says hello speaking protocol 99
 *   silent      never says hello
 *   args        well behaved: answers every request, printing connect's args on stderr as JSON
 *   args-hints  as args, and declares Kerberos and the dialects hint
 */
import { createInterface } from 'node:readline';

const mode = process.argv[2];
const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const capabilities = {
  dialects: ['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1'],
  ciphers: ['AES-128-CCM', 'AES-128-GCM', 'AES-256-CCM', 'AES-256-GCM'],
  signing: ['HMAC-SHA256', 'AES-128-CMAC', 'AES-128-GMAC'],
  auth: mode === 'args-hints' ? ['ntlm', 'kerberos'] : ['ntlm'],
  operations: ['writeFile', 'readFile', 'stat', 'readdir', 'mkdir', 'rmdir', 'unlink', 'rename', 'exists'],
  ...(mode === 'args-hints' ? { hints: ['dialects'] } : {}),
};

if (mode === 'silent') {
  setInterval(() => {}, 1000);
} else {
  send({ type: 'hello', protocol: mode === 'protocol99' ? 99 : 1, client: { name: `faulty-${mode}`, version: '0' }, capabilities });
  for await (const line of createInterface({ input: process.stdin })) {
    const request = JSON.parse(line);
    process.stderr.write(`faulty driver (${mode}) got ${request.op}\n`);
    if (request.op === 'connect' && mode.startsWith('args')) process.stderr.write(`connect args ${JSON.stringify(request.args)}\n`);
    if (mode === 'garbage') process.stdout.write('this is not JSON at all {\n');
    else if (request.op === 'connect' || request.op === 'close') send({ type: 'result', id: request.id, ok: true, value: {} });
    else if (mode === 'panic') {
      process.stderr.write('panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation]\n\ngoroutine 1 [running]:\nmain.(*client).connect(...)\n\t/src/driver/operations.go:70 +0x1d\nmain.main()\n\t/src/driver/main.go:38 +0x33f\n');
      process.exit(2);
    } else if (mode === 'crash') {
      process.stderr.write(`faulty driver: crashing in ${request.op}\n`);
      process.exit(3);
    }
    // hang: no answer
  }
}
