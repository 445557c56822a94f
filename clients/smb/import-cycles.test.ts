/**
 * Layers import only downward: no module of clients/ reaches itself through its relative imports
 * (type-only imports and re-exports count too).
 */
import { test, expect } from '@playwright/test';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLIENTS = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SPECIFIER = /(?:^|[\s;}])(?:import|export)\b[^'"]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|[\s;])import\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The modules `file` imports, as absolute .ts paths (relative specifiers only). */
export function importsOf(file: string, text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2]!;
    const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
    if (existsSync(target)) found.add(target);
  }
  return [...found];
}

/** Every cycle's modules, one per strongly connected component of more than one module (or a self-import). */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

test('the cycle finder finds a circle of three modules and a self-import, and nothing in a chain', () => {
  const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a', 'd']], ['d', []], ['e', ['e']], ['f', ['d']]]);
  expect(cycles(graph)).toEqual([['a', 'b', 'c'], ['e']]);
  expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', []]]))).toEqual([]);
});

test('the import reader sees imports, type imports, re-exports and side-effect imports', () => {
  const file = join(CLIENTS, 'smb', 'x.ts');
  const text = [
    "import { Tree } from './tree.js';",
    "import type { Session } from './session.js';",
    "export { Connection } from './connection.js';",
    "import './errors.js';",
    "import { test } from '@playwright/test';",
  ].join('\n');
  expect(importsOf(file, text).map((p) => relative(CLIENTS, p)).sort()).toEqual(['smb/connection.ts', 'smb/errors.ts', 'smb/session.ts', 'smb/tree.ts']);
});

test('no import circle anywhere in clients/', () => {
  const graph = new Map<string, string[]>();
  for (const file of sources(CLIENTS)) graph.set(file, importsOf(file, readFileSync(file, 'utf8')));
  expect(graph.size).toBeGreaterThan(50);
  expect(cycles(graph).map((cycle) => `circle of ${cycle.map((p) => relative(CLIENTS, p)).join(', ')}`)).toEqual([]);
});
