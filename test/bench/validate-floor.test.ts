/**
 * validate's floor in the bench (bench/validate-floor.cjs, run by bench/cached-run.cjs) must do
 * the parsing `canary validate` does, or the figure it sets beside canary's would flatter canary:
 * the plan, the scenario file it names and the prompt lines, each read and parsed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const FLOOR = path.join(ROOT, 'bench', 'validate-floor.cjs');
const dir = mkdtempSync(path.join(tmpdir(), 'canary-validate-floor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the validate floor', () => {
  it('parses the quickstart plan, its scenario and its prompts', async () => {
    const { stdout } = await run(process.execPath, [FLOOR, 'examples/quickstart.yaml'], { cwd: ROOT });
    expect(stdout).toBe('examples/quickstart.yaml is valid\n');
  });

  it('fails on a scenario file or a prompt line it cannot read, so it really reads them', async () => {
    const plan = path.join(dir, 'plan.yaml');
    writeFileSync(plan, 'emulator:\n  scenario: ./missing.yaml\n');
    await expect(run(process.execPath, [FLOOR, plan])).rejects.toThrow(/ENOENT.*missing\.yaml/);
    writeFileSync(path.join(dir, 'bad.jsonl'), '{"messages": [\n');
    writeFileSync(plan, 'evaluation:\n  prompts: [./bad.jsonl]\n');
    await expect(run(process.execPath, [FLOOR, plan])).rejects.toThrow(/JSON/);
    // A single file, as examples/quickstart.yaml names its prompt set.
    writeFileSync(plan, 'evaluation:\n  prompts: ./bad.jsonl\n');
    await expect(run(process.execPath, [FLOOR, plan])).rejects.toThrow(/JSON/);
  });

  it('runs through cached-run.cjs, which keeps a code cache beside the bundle', async () => {
    const bundle = path.join(dir, 'hello.cjs');
    writeFileSync(bundle, "process.stdout.write('hello ' + process.argv[2] + '\\n');\n");
    for (let i = 0; i < 2; i++) {
      const { stdout } = await run(process.execPath, [
        path.join(ROOT, 'bench', 'cached-run.cjs'),
        bundle,
        'x',
      ]);
      expect(stdout).toBe('hello x\n');
    }
    expect(readdirSync(dir)).toContain('hello.cjs.cache');
  });
});
