/**
 * Finds `expect` calls that run once per loop iteration inside a test. Each `expect` is a
 * Playwright step (a stack capture and step events sent to the runner), so one inside a loop of
 * 10,000 iterations costs a minute where the operations themselves take a second. A scenario
 * checks what each iteration saw without Playwright (`LoopChecks` in scenarios/helpers.ts) and
 * asserts once after the loop.
 *
 * A loop is a for / for-of / for-in / while / do statement, or a callback given to an array
 * iteration method (forEach, map, ...) or to Array.from. Walking out from an `expect`, the search
 * stops at the function given to `test(...)` (or `test.step`, ...): tests declared in a loop are
 * not an assertion in a loop.
 */
import ts from 'typescript';

export interface ExpectInLoop {
  file: string;
  /** 1-based. */
  line: number;
  column: number;
  /** What loops it, e.g. `while statement at line 38`. */
  loop: string;
}

const ITERATION_METHODS = new Set(['forEach', 'map', 'flatMap', 'filter', 'some', 'every', 'find', 'findIndex', 'findLast', 'findLastIndex', 'reduce', 'reduceRight']);

function isExpectCall(node: ts.Node): node is ts.CallExpression {
  if (!ts.isCallExpression(node)) return false;
  const callee = node.expression;
  if (ts.isIdentifier(callee)) return callee.text === 'expect';
  // expect.soft(...), expect.poll(...)
  return ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'expect';
}

/** The identifier a call chain starts from: `test.describe.parallel(...)` -> `test`. */
function rootName(expression: ts.Expression): string | undefined {
  let current: ts.Expression = expression;
  while (ts.isPropertyAccessExpression(current) || ts.isCallExpression(current)) current = current.expression;
  return ts.isIdentifier(current) ? current.text : undefined;
}

function isFunction(node: ts.Node): node is ts.FunctionExpression | ts.ArrowFunction {
  return ts.isFunctionExpression(node) || ts.isArrowFunction(node);
}

/** What a function given as an argument is: a test body, a loop's callback, or neither. */
function callbackRole(fn: ts.FunctionExpression | ts.ArrowFunction): { role: 'test' | 'loop' | 'other'; call?: ts.CallExpression } {
  const call = fn.parent;
  if (!ts.isCallExpression(call) || !call.arguments.includes(fn)) return { role: 'other' };
  if (rootName(call.expression) === 'test') return { role: 'test', call };
  const callee = call.expression;
  if (ts.isPropertyAccessExpression(callee)) {
    const method = callee.name.text;
    if (ITERATION_METHODS.has(method)) return { role: 'loop', call };
    if (method === 'from' && ts.isIdentifier(callee.expression) && callee.expression.text === 'Array' && call.arguments[1] === fn) return { role: 'loop', call };
  }
  return { role: 'other' };
}

/** Whether `child` is evaluated once per iteration of `loop` (its body or condition, not its setup). */
function repeatsIn(loop: ts.IterationStatement, child: ts.Node): boolean {
  if (ts.isForStatement(loop)) return child !== loop.initializer;
  if (ts.isForOfStatement(loop) || ts.isForInStatement(loop)) return child === loop.statement;
  return true;
}

function describeLoop(node: ts.Node, source: ts.SourceFile): string {
  const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  if (ts.isCallExpression(node)) {
    const callee = node.expression;
    const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : 'call';
    return `${name} callback at line ${line}`;
  }
  const kind = ts.isForStatement(node) ? 'for' : ts.isForOfStatement(node) ? 'for-of' : ts.isForInStatement(node) ? 'for-in' : ts.isWhileStatement(node) ? 'while' : 'do';
  return `${kind} statement at line ${line}`;
}

/** The loop an `expect` call repeats in, or undefined. */
function enclosingLoop(call: ts.CallExpression, source: ts.SourceFile): string | undefined {
  let child: ts.Node = call;
  for (let node = call.parent; node !== undefined && !ts.isSourceFile(node); child = node, node = node.parent) {
    if (ts.isIterationStatement(node, false) && repeatsIn(node, child)) return describeLoop(node, source);
    if (isFunction(node)) {
      const { role, call: owner } = callbackRole(node);
      if (role === 'test') return undefined;
      if (role === 'loop' && owner !== undefined) return describeLoop(owner, source);
    }
  }
  return undefined;
}

/** Every `expect` in `text` (TypeScript source) that runs once per loop iteration. */
export function findExpectInLoops(file: string, text: string): ExpectInLoop[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: ExpectInLoop[] = [];
  const visit = (node: ts.Node): void => {
    if (isExpectCall(node)) {
      const loop = enclosingLoop(node, source);
      if (loop !== undefined) {
        const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
        found.push({ file, line: line + 1, column: character + 1, loop });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

export function formatExpectInLoop(found: ExpectInLoop): string {
  return `${found.file}:${found.line}:${found.column}: expect inside a loop (${found.loop}); check each iteration with LoopChecks and assert once after the loop`;
}
