/**
 * For tests that need a program `.ci/run` installs (prometheus, chromium). Where it is missing
 * they are skipped with a loud message, except under CI, where a failing test stands in for
 * them: a broken install is noticed, not skipped.
 */
import { describe, expect, it } from 'vitest';

/** CI set to anything but '' or 'false', as CI services (and ci-info) do. */
export const IN_CI = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

export function needsTool(opts: {
  /** Whether the program was found. */
  found: boolean;
  /** Its command and Debian package name. */
  tool: string;
  /** The tests that need it, for the skip message ("test/e2e/prometheus.test.ts"). */
  tests: string;
  /** The suite's title; the CI stand-in is "<title> (CI)". */
  title: string;
}): void {
  if (opts.found) return;
  if (!IN_CI) {
    process.stderr.write(
      `\n*** SKIPPING ${opts.tests}: no \`${opts.tool}\` on PATH. ` +
        `Install it (Debian: apt-get install --no-install-recommends ${opts.tool}) to run them. ***\n\n`,
    );
    return;
  }
  describe(`${opts.title} (CI)`, () => {
    it(`needs the ${opts.tool} binary, which .ci/run installs`, () => {
      expect.fail(`\`${opts.tool}\` is not on PATH under CI: the install step in .ci/run did not work`);
    });
  });
}
