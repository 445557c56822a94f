import { test, expect } from '@playwright/test';
import { mergeMatrices } from './merge.js';
import { readMatrix } from './schema.js';

const fixture = (name: string) => readMatrix(new URL(`./fixtures/${name}/matrix.json`, import.meta.url).pathname);

test('shards with unsupported cells merge into one schema 2 matrix that keeps them and their reasons; a version 1 shard merges too', async () => {
  const plugins = await fixture('run-plugins');
  const aes = plugins.cells.filter((c) => c.target === 'smb311-aes256@native');
  const gcm = plugins.cells.filter((c) => c.target === 'smb311-gcm@native');
  const merged = mergeMatrices([{ ...plugins, cells: aes }, { ...plugins, cells: gcm }], { id: 'merged', commandLine: ['smb-interop', 'merge'] });
  expect(merged.schemaVersion).toBe(2);
  expect(merged.cells.filter((c) => c.outcome === 'unsupported').map((c) => [c.client, c.target, c.scenario, c.reason])).toEqual([
    ['go-smb2', 'smb311-aes256@native', 'dirs/rename', 'smb311-aes256@native needs cipher AES-256-GCM; go-smb2 declares AES-128-CCM, AES-128-GCM'],
    ['go-smb2', 'smb311-aes256@native', 'files/round-trip-small', 'smb311-aes256@native needs cipher AES-256-GCM; go-smb2 declares AES-128-CCM, AES-128-GCM'],
  ]);
  // The same unsupported cell in two shards (a repetition) stays unsupported.
  const twice = mergeMatrices([{ ...plugins, cells: aes }, { ...plugins, cells: aes }], { id: 'twice', commandLine: [] });
  expect(twice.cells.map((c) => c.outcome)).toEqual(['passed', 'passed', 'unsupported', 'unsupported']);

  const v1 = await fixture('run-baseline');
  const mixed = mergeMatrices([v1, plugins], { id: 'mixed', commandLine: [] });
  expect(mixed.schemaVersion).toBe(2);
  expect(mixed.clients).toEqual(['smb-ts', 'smbclient', 'go-smb2']);
  expect(mixed.cells.filter((c) => c.outcome === 'unsupported')).toHaveLength(2);
});
