/**
 * Who runs canary, as the journal header, control requests and `run_by` name them: the passwd
 * entry's login name, else $USER/$USERNAME (a container without a passwd entry), else none.
 */
import { userInfo } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.doUnmock('node:os');
  vi.resetModules();
});

describe('loginName', () => {
  it("is the passwd entry's name when there is one, whatever the environment says", async () => {
    const { loginName } = await import('../../src/journal/login.js');
    expect(loginName({ USER: 'someone-else' })).toBe(userInfo().username);
  });

  it('falls back to $USER, then $USERNAME, then none, without a passwd entry', async () => {
    vi.doMock('node:os', async (original) => ({
      ...(await original<typeof import('node:os')>()),
      userInfo: () => {
        throw Object.assign(new Error('no passwd entry'), { code: 'ENOENT' });
      },
    }));
    const { loginName } = await import('../../src/journal/login.js');
    expect(loginName({ USER: 'ci-user', USERNAME: 'win-user' })).toBe('ci-user');
    expect(loginName({ USER: '', USERNAME: 'win-user' })).toBe('win-user');
    expect(loginName({})).toBeUndefined();
  });
});
