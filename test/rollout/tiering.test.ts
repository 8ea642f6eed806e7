import { describe, expect, it } from 'vitest';
import { optimiserNeedless } from '../../src/rollout-tiering.js';

const relay = { inProcessEmulator: false, evaluates: false, execArgv: [], nodeOptions: undefined };

describe('a rollout keeps V8’s optimising compiler only where it computes', () => {
  it('goes without it when it only talks to a relay', () => {
    expect(optimiserNeedless(relay)).toBe(true);
    // Flags that say nothing about tiering change nothing (the bench's and tests' preloads).
    expect(
      optimiserNeedless({ ...relay, nodeOptions: '--require /tmp/x.cjs --max-old-space-size=512' }),
    ).toBe(true);
    expect(optimiserNeedless({ ...relay, execArgv: ['--trace-opt', '--enable-source-maps'] })).toBe(true);
  });

  it('keeps it for the emulator inside the process and for the pre-traffic evaluation', () => {
    expect(optimiserNeedless({ ...relay, inProcessEmulator: true })).toBe(false);
    expect(optimiserNeedless({ ...relay, evaluates: true })).toBe(false);
  });

  it('leaves a user’s own tiering flags alone, in node’s arguments or NODE_OPTIONS, either spelling', () => {
    for (const flag of [
      '--opt',
      '--no-opt',
      '--turbofan',
      '--no-turbofan',
      '--jitless',
      '--no_opt',
      '--max-opt=2',
      '--sparkplug',
      '--maglev',
    ]) {
      expect(optimiserNeedless({ ...relay, execArgv: [flag] }), flag).toBe(false);
      expect(optimiserNeedless({ ...relay, nodeOptions: `--require x.cjs  ${flag}` }), flag).toBe(false);
    }
  });
});
