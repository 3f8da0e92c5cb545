/**
 * docs/ENGINE.md, *Layers*: imports run one way, so there is no import cycle between the files of
 * src, nor between its folders (relative imports, type imports included; a folder and the folders
 * inside it do not count as a cycle).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const IMPORT = /(?:import|export)\s[^'"`;]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function importGraph(files: string[]): Map<string, Set<string>> {
  const known = new Set(files);
  const resolve = (from: string, spec: string) => {
    const base = path.resolve(path.dirname(from), spec);
    return [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, path.join(base, 'index.ts')].find((c) => known.has(c));
  };
  const edges = new Map(files.map((f) => [f, new Set<string>()]));
  for (const f of files) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(IMPORT)) {
      const target = resolve(f, (m[1] ?? m[2])!);
      if (target && target !== f) edges.get(f)!.add(target);
    }
  }
  return edges;
}

/** Strongly connected components of more than one node (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const files = sourceFiles(src);
const graph = importGraph(files);
const rel = (p: string) => path.relative(path.dirname(src), p);

test('no import cycle between the files of src', () => {
  assert.ok(files.length > 50 && [...graph.values()].some((e) => e.size > 0), 'the graph was read');
  assert.deepEqual(cycles(graph).map((c) => c.map(rel).join(' <-> ')), []);
});

test('no import cycle between the folders of src', () => {
  const inside = (a: string, b: string) => a.startsWith(b + path.sep);
  const folders = new Map<string, Set<string>>();
  for (const [from, targets] of graph) {
    const a = path.dirname(from);
    if (!folders.has(a)) folders.set(a, new Set());
    for (const t of targets) {
      const b = path.dirname(t);
      if (a !== b && !inside(a, b) && !inside(b, a)) folders.get(a)!.add(b);
    }
  }
  assert.deepEqual(cycles(folders).map((c) => c.map(rel).join(' <-> ')), []);
});

test('the check sees a cycle when there is one', () => {
  const g = new Map([
    ['a', new Set(['b'])],
    ['b', new Set(['c'])],
    ['c', new Set(['a'])],
    ['d', new Set(['a'])],
  ]);
  assert.deepEqual(cycles(g).map((c) => c.sort()), [['a', 'b', 'c']]);
});
