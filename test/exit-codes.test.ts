import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_CODE_MEANINGS, ExitCode } from '../src/errors.js';

describe('the exit-code table', () => {
  it('has a meaning for every code', () => {
    for (const code of Object.values(ExitCode)) expect(EXIT_CODE_MEANINGS[code]).toBeTruthy();
  });

  it('is the same in the README as in the code (one table, two readers)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Exit codes'));
    const rows = [...section.slice(0, section.indexOf('\n## ', 3)).matchAll(/^\| (\d+) \| (.+) \|$/gm)].map(
      (m) => [Number(m[1]), m[2]] as const,
    );
    expect(rows).toEqual(
      Object.entries(EXIT_CODE_MEANINGS).map(([code, meaning]) => [Number(code), meaning]),
    );
  });
});
