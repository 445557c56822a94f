import { test, expect } from '@playwright/test';
import type { TestCase, TestResult } from '@playwright/test/reporter';
import { Annotation } from '../harness/annotations.js';
import { WIRE_SUMMARY_ATTACHMENT, WIRE_SUMMARY_VERSION } from '../harness/explain/wire-summary.js';
import type { MessageField, SummaryMessage, WireSummary } from '../harness/explain/wire-summary.js';
import { buildMatrix } from './build.js';
import type { TestRun } from './cells.js';
import { parseMatrix, type Cell } from './schema.js';

// Wire summaries as the harness attaches them: a 3.0.2 client without SMB2_GLOBAL_CAP_ENCRYPTION
// refused at SESSION_SETUP, and clients that got through to an encrypted TREE_CONNECT.
const BASE = 0x7;
const ENCRYPTION = 0x40;
const CAPS = (bits: number) => ['DFS', 'LEASING', 'LARGE_MTU'].concat(bits & ENCRYPTION ? ['ENCRYPTION'] : []).join('|');

function message(index: number, direction: 'send' | 'receive', command: string, more: Partial<SummaryMessage> = {}, fields: MessageField[] = []): SummaryMessage {
  const statusName = more.statusName ?? 'STATUS_SUCCESS';
  const header: MessageField[] = direction === 'receive' ? [{ name: 'Status', value: statusName, section: 'MS-SMB2 2.2.1.2', rank: 'decisive' }] : [];
  return {
    index, connection: 1, frame: index - 1, direction, command, messageId: String(Math.floor((index - 1) / 2)), status: 0, statusName,
    creditCharge: 1, credits: 1, flags: direction === 'receive' ? 1 : 0, encrypted: false, signed: false, signature: 'unsigned',
    ...more,
    fields: [...header, { name: 'Encrypted', value: more.encrypted ? 'yes' : 'no', section: 'MS-SMB2 2.2.41, 3.1.4.3', rank: 'decisive' }, ...fields],
  };
}

function conversation(capabilities: number, setupStatus: string, dialect = 0x0302): WireSummary {
  const messages = [
    message(1, 'send', 'NEGOTIATE', {}, [
      { name: 'Dialects', value: '3.0|3.0.2', section: 'MS-SMB2 2.2.3', rank: { offer: 'dialect', values: [0x0300, 0x0302] } },
      { name: 'Capabilities', value: CAPS(capabilities), section: 'MS-SMB2 2.2.3', rank: { encryptionBit: capabilities } },
    ]),
    message(2, 'receive', 'NEGOTIATE', { negotiated: { dialect } }),
    message(3, 'send', 'SESSION_SETUP'),
    message(4, 'receive', 'SESSION_SETUP', { statusName: 'STATUS_MORE_PROCESSING_REQUIRED', status: 0xc0000016 }),
    message(5, 'send', 'SESSION_SETUP'),
    message(6, 'receive', 'SESSION_SETUP', { statusName: setupStatus, status: setupStatus === 'STATUS_SUCCESS' ? 0 : 0xc0000022 }),
  ];
  if (setupStatus === 'STATUS_SUCCESS') {
    messages.push(message(7, 'send', 'TREE_CONNECT', { encrypted: true }), message(8, 'receive', 'TREE_CONNECT', { encrypted: true }));
  }
  return { version: WIRE_SUMMARY_VERSION, messages, problems: [], omitted: 0, closedByServer: [] };
}

const REFUSED = conversation(BASE, 'STATUS_ACCESS_DENIED');
const WORKING = conversation(BASE | ENCRYPTION, 'STATUS_SUCCESS');
const WORKING_311 = conversation(BASE | ENCRYPTION, 'STATUS_SUCCESS', 0x0311);

const DECLARED_302 = { dialect: '3.0.2', cipher: 'AES-128-CCM', signingAlgorithm: 'AES-128-CMAC', preauthIntegrity: false, encryption: true, signing: true, encryptedShares: [] };
const DECLARED_311 = { ...DECLARED_302, dialect: '3.1.1', cipher: 'AES-128-GCM', preauthIntegrity: true };
const DECLARED_202 = { ...DECLARED_302, dialect: '2.0.2', cipher: null, signingAlgorithm: 'HMAC-SHA256', encryption: false, signing: false };
const DECLARED: Record<string, object> = { 'smb302-ccm@native': DECLARED_302, 'smb311-gcm@native': DECLARED_311, 'smb202-legacy@native': DECLARED_202 };

interface Spec { client: string; target: string; status: TestResult['status']; wire?: WireSummary | string; explanation?: string[] }

function runOf(spec: Spec, scenario = 'encryption/encrypted-tree-connect'): TestRun {
  const [profile, provider] = spec.target.split('@');
  const notes = [
    { type: Annotation.scenario, description: scenario },
    { type: Annotation.area, description: 'encryption' },
    { type: Annotation.client, description: spec.client },
    { type: Annotation.target, description: JSON.stringify({ name: spec.target, profile, provider, serverVersion: '4.17.12', declared: DECLARED[spec.target] }) },
    ...(spec.explanation ? [{ type: Annotation.explanation, description: JSON.stringify(spec.explanation) }] : []),
  ];
  const test = { title: scenario, retries: 0, annotations: notes, titlePath: () => ['', spec.target, 'encryption.spec.ts', 'encryption', scenario] } as unknown as TestCase;
  const wire = spec.wire === undefined ? [] : [{ name: WIRE_SUMMARY_ATTACHMENT, contentType: 'application/json', body: Buffer.from(typeof spec.wire === 'string' ? spec.wire : JSON.stringify(spec.wire)) }];
  const failed = spec.status === 'failed';
  const result = {
    status: spec.status, duration: 10, retry: 0, steps: [], annotations: [], attachments: wire,
    errors: failed ? [{ message: 'SmbError: STATUS_ACCESS_DENIED (0xC0000022) on SESSION_SETUP' }] : [],
    ...(failed ? { error: { message: 'SmbError: STATUS_ACCESS_DENIED (0xC0000022) on SESSION_SETUP' } } : {}),
  } as unknown as TestResult;
  return { test, result };
}

function cellsOf(specs: Spec[]): Cell[] {
  const { matrix } = buildMatrix({
    runs: specs.map((s) => runOf(s)),
    run: { id: 'r1', start: '2026-12-06T00:00:00.000Z', end: '2026-12-06T00:01:00.000Z', host: 'h', nodeVersion: 'v20', clientVersion: '0', commandLine: [], shard: null },
    targets: [...new Set(specs.map((s) => s.target))],
    expectations: [],
    now: new Date('2026-12-06T00:01:00Z'),
  });
  // What the reporter writes must be a valid matrix.json.
  return parseMatrix(JSON.parse(JSON.stringify(matrix)), 'matrix.json').cells;
}

const cell = (cells: Cell[], client: string, target: string) => cells.find((c) => c.client === client && c.target === target)!;

test('a red cell names its first divergence from another client that passed on the same target, after the violated rules and before the server\'s reason', () => {
  const explanation = ['spec: encryption-capability (MS-SMB2 2.2.3): ...', 'server: reject session with dialect[0x0302] as encryption is required (smb2_sesssetup.c:147)'];
  const cells = cellsOf([
    { client: 'smb-ts', target: 'smb302-ccm@native', status: 'failed', wire: REFUSED, explanation },
    { client: 'smbclient', target: 'smb302-ccm@native', status: 'passed', wire: WORKING },
    { client: 'smb-ts', target: 'smb311-gcm@native', status: 'passed', wire: WORKING_311 },
  ]);
  const red = cell(cells, 'smb-ts', 'smb302-ccm@native');
  expect(red.explanation).toEqual([
    explanation[0],
    'divergence from smbclient, which passed on this target: NEGOTIATE request Capabilities: DFS|LEASING|LARGE_MTU; reference: DFS|LEASING|LARGE_MTU|ENCRYPTION (MS-SMB2 2.2.3)',
    explanation[1],
  ]);
  expect(red.divergence).toMatchObject({
    reference: { client: 'smbclient', target: 'smb302-ccm@native', differs: 'client' },
    kind: 'field', field: 'Capabilities', value: 'DFS|LEASING|LARGE_MTU', referenceValue: 'DFS|LEASING|LARGE_MTU|ENCRYPTION', section: 'MS-SMB2 2.2.3',
    rowsBefore: 0, rowsAfter: 0,
  });
  const rows = red.divergence!.rows;
  expect(rows.filter((r) => r.mark)).toEqual([{ cell: '#1 → NEGOTIATE request mid=0', reference: '#1 → NEGOTIATE request mid=0', mark: true }]);
  expect(rows.at(5)).toEqual({ cell: '#6 ← SESSION_SETUP response STATUS_ACCESS_DENIED mid=2', reference: '#6 ← SESSION_SETUP response STATUS_SUCCESS mid=2', mark: false });
  expect(rows.at(-1)).toEqual({ cell: null, reference: '#8 ← TREE_CONNECT response STATUS_SUCCESS mid=3 encrypted', mark: false });
  // Cells that passed are left as they were.
  expect(cell(cells, 'smbclient', 'smb302-ccm@native').divergence).toBeUndefined();
  expect(cell(cells, 'smbclient', 'smb302-ccm@native').explanation).toBeUndefined();
});

test('when no other client passed, the same client on the most alike target that passed is the reference, and the line says the target is what differs', () => {
  const cells = cellsOf([
    { client: 'smb-ts', target: 'smb302-ccm@native', status: 'failed', wire: REFUSED },
    { client: 'smbclient', target: 'smb302-ccm@native', status: 'failed', wire: REFUSED },
    { client: 'smb-ts', target: 'smb202-legacy@native', status: 'passed', wire: conversation(BASE, 'STATUS_SUCCESS', 0x0202) },
    { client: 'smb-ts', target: 'smb311-gcm@native', status: 'passed', wire: WORKING_311 },
    // Another client on another target differs in two ways at once: never a reference.
    { client: 'smbclient', target: 'smb311-gcm@native', status: 'passed', wire: WORKING_311 },
  ]);
  const red = cell(cells, 'smb-ts', 'smb302-ccm@native');
  expect(red.divergence?.reference).toEqual({ client: 'smb-ts', target: 'smb311-gcm@native', differs: 'target' });
  // Against the same client every difference counts: the capability bit comes first.
  expect(red.explanation).toEqual([
    'divergence from smb-ts on smb311-gcm@native (no other client passed here; the same client on another target, so the target is what differs): NEGOTIATE request Capabilities: DFS|LEASING|LARGE_MTU; reference: DFS|LEASING|LARGE_MTU|ENCRYPTION (MS-SMB2 2.2.3)',
  ]);
});

test('a red cell with no passing reference says so; a cell without a readable wire summary gets no divergence line', () => {
  const cells = cellsOf([
    { client: 'smb-ts', target: 'smb302-ccm@native', status: 'failed', wire: REFUSED, explanation: ['server: reject session with dialect[0x0302] as encryption is required (smb2_sesssetup.c:147)'] },
    { client: 'smbclient', target: 'smb302-ccm@native', status: 'failed', wire: '{"version": 1, "messages": "not a list"}' },
    { client: 'smbclient', target: 'smb311-gcm@native', status: 'failed' },
  ]);
  // Not a cause: after the server's reason, which stays first (summary.md shows the first line).
  expect(cell(cells, 'smb-ts', 'smb302-ccm@native').explanation).toEqual([
    'server: reject session with dialect[0x0302] as encryption is required (smb2_sesssetup.c:147)',
    'divergence: no reference: no other client passed encryption/encrypted-tree-connect on smb302-ccm@native, and smb-ts passed it on no other target; the spec checks are all there is to compare with',
  ]);
  expect(cell(cells, 'smb-ts', 'smb302-ccm@native').divergence).toBeUndefined();
  expect(cell(cells, 'smbclient', 'smb302-ccm@native').explanation).toBeUndefined();
  expect(cell(cells, 'smbclient', 'smb311-gcm@native').explanation).toBeUndefined();
});

test('a red cell whose wire matches its reference\'s keeps its own explanation first and says nothing on the wire differs', () => {
  const explanation = ['server: STATUS_OBJECT_NAME_NOT_FOUND at smb2_create.c:339'];
  const cells = cellsOf([
    { client: 'smb-ts', target: 'smb302-ccm@native', status: 'failed', wire: WORKING, explanation },
    { client: 'smbclient', target: 'smb302-ccm@native', status: 'passed', wire: WORKING },
  ]);
  const red = cell(cells, 'smb-ts', 'smb302-ccm@native');
  expect(red.explanation).toEqual([
    explanation[0],
    'divergence from smbclient, which passed on this target: no difference that matters: 8 messages on 1 connection(s) match the reference\'s, apart from ids, GUIDs, nonces, timestamps and names',
  ]);
  expect(red.divergence?.kind).toBe('none');
  expect(red.divergence?.rows.some((r) => r.mark)).toBe(false);
});
