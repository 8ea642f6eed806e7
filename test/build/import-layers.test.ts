/**
 * The source's floors stay floors: no top-level part of src/ (a folder, or a file at the top)
 * imports one that imports it back, directly or round a circle, and no file does either. Such an
 * import "runs back up": the shared thing lives on the wrong floor (a type the core consumes kept
 * by the module that produces it, a helper kept by its first user), and the fix is to move it
 * down, not to hide the arrow behind a re-export. src/domain/ is the ground floor: it imports
 * nothing else of src/.
 *
 * Imports are read by TypeScript's own scanner (ts.preProcessFile): static, type-only,
 * re-exports and import() alike, since a type import ties two folders as much as a value does.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/index.js';

const SRC = path.join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(ts|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

function isFile(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isFile() === true;
}

/** The source file a relative specifier names (`./x.js` is `./x.ts`), or undefined outside src/. */
function resolveImport(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier).replace(/\.(c|m)?js$/, '');
  const found = [`${base}.ts`, `${base}.mts`, `${base}.cts`, path.join(base, 'index.ts'), base].find(isFile);
  return found?.startsWith(SRC + path.sep) ? found : undefined;
}

/** `analysis/` for src/analysis/evaluate.ts, `cli.ts` for src/cli.ts. */
function part(file: string): string {
  const [first, ...rest] = path.relative(SRC, file).split(path.sep);
  return rest.length > 0 ? `${first}/` : (first as string);
}

interface Arrow {
  from: string;
  to: string;
  /** `src/a/x.ts -> src/b/y.ts`, the imports that make this arrow. */
  because: string[];
}

/** Every import inside src/, file to file. */
function fileImports(): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      const target = resolveImport(file, fileName);
      if (target && target !== file) pairs.push([file, target]);
    }
  }
  return pairs;
}

function arrows(pairs: Array<[string, string]>, node: (file: string) => string): Map<string, Arrow> {
  const byKey = new Map<string, Arrow>();
  for (const [a, b] of pairs) {
    const from = node(a);
    const to = node(b);
    if (from === to) continue;
    const key = `${from} -> ${to}`;
    const arrow = byKey.get(key) ?? { from, to, because: [] };
    arrow.because.push(`${path.relative(ROOT, a)} -> ${path.relative(ROOT, b)}`);
    byKey.set(key, arrow);
  }
  return byKey;
}

/** The circles (strongly connected sets of two or more), each as the arrows inside it (Tarjan). */
function circles(all: Map<string, Arrow>): Arrow[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of all.values()) {
    next.set(from, [...(next.get(from) ?? []), to]);
    if (!next.has(to)) next.set(to, []);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const members: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        members.push(w);
      } while (w !== v);
      if (members.length > 1) found.push(members);
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return found.map((members) =>
    [...all.values()].filter((a) => members.includes(a.from) && members.includes(a.to)),
  );
}

const describeCircle = (circle: Arrow[]) =>
  circle.map((a) => `${a.from} -> ${a.to}: ${a.because.join(', ')}`).join('\n');

describe('import layers of src/', () => {
  const pairs = fileImports();

  it('reads the imports it judges (a scanner that found nothing would pass anything)', () => {
    expect(pairs.length).toBeGreaterThan(500);
    expect(pairs).toContainEqual([path.join(SRC, 'cli.ts'), path.join(SRC, 'io.ts')]);
  });

  it('no part of src/ imports one that imports it back (no import runs back up)', () => {
    expect(circles(arrows(pairs, part)).map(describeCircle)).toEqual([]);
  });

  it('no file imports one that imports it back', () => {
    expect(circles(arrows(pairs, (f) => path.relative(ROOT, f))).map(describeCircle)).toEqual([]);
  });

  it('src/domain/ imports nothing else of src/', () => {
    const out = [...arrows(pairs, part).values()].filter((a) => a.from === 'domain/');
    expect(out.flatMap((a) => a.because)).toEqual([]);
  });

  it('finds a circle when there is one (the check itself)', () => {
    const made: Array<[string, string]> = [
      [path.join(SRC, 'a', 'x.ts'), path.join(SRC, 'b', 'y.ts')],
      [path.join(SRC, 'b', 'z.ts'), path.join(SRC, 'a', 'w.ts')],
    ];
    expect(circles(arrows(made, part)).map(describeCircle)).toEqual([
      'a/ -> b/: src/a/x.ts -> src/b/y.ts\nb/ -> a/: src/b/z.ts -> src/a/w.ts',
    ]);
  });
});
