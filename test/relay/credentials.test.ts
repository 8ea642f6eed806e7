import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialsError } from '../../src/errors.js';
import { resolveApiKey } from '../../src/relay/credentials.js';

const KEY = 'sk-relay-credential-test-4f9a';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'canary-cred-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keyFile(content: string, mode = 0o600, name = 'key'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  await chmod(path, mode);
  return path;
}

async function failure(promise: Promise<unknown>): Promise<CredentialsError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialsError);
    const e = error as CredentialsError;
    expect(`${e.message}\n${e.hint ?? ''}`).not.toContain(KEY);
    return e;
  }
  throw new Error('expected a CredentialsError');
}

describe('resolveApiKey', () => {
  it('prefers the environment variable', async () => {
    const file = await keyFile('sk-from-file\n');
    const got = await resolveApiKey({ env: { RELAY_API_KEY: KEY }, keyFile: file, cwd: dir });
    expect(got).toEqual({ key: KEY, source: 'env RELAY_API_KEY' });
  });

  it('honours a custom env var name', async () => {
    const got = await resolveApiKey({ env: { MY_KEY: KEY }, envVar: 'MY_KEY', cwd: dir });
    expect(got.source).toBe('env MY_KEY');
  });

  it('reads the key file, trimming the newline, relative to cwd', async () => {
    await keyFile(`${KEY}\n`);
    const got = await resolveApiKey({ env: {}, keyFile: 'key', cwd: dir });
    expect(got).toEqual({ key: KEY, source: 'key file key' });
  });

  it('expands ~ in the key file path with HOME', async () => {
    await keyFile(`${KEY}\r\n`);
    const got = await resolveApiKey({ env: { HOME: dir }, keyFile: '~/key', cwd: '/' });
    expect(got).toEqual({ key: KEY, source: 'key file ~/key' });
  });

  it("expands ~ with the user's home folder when HOME is not set", async () => {
    const name = `canary-missing-key-${process.pid}`;
    const e = await failure(resolveApiKey({ env: {}, keyFile: `~/${name}`, cwd: '/' }));
    expect(e.message).toContain(join(homedir(), name));
  });

  it.skipIf(process.platform === 'win32')(
    'refuses a key file others can read, with the chmod fix',
    async () => {
      const path = await keyFile(KEY, 0o644);
      const e = await failure(resolveApiKey({ env: {}, keyFile: path, cwd: dir }));
      expect(e.message).toContain('mode 644');
      expect(e.hint).toBe(`Run: chmod 600 ${path}`);
      await chmod(path, 0o640);
      const group = await failure(resolveApiKey({ env: {}, keyFile: path, cwd: dir }));
      expect(group.hint).toBe(`Run: chmod 600 ${path}`);
    },
  );

  it('quotes a path with spaces in the chmod fix', async () => {
    const path = await keyFile(KEY, 0o644, 'my key');
    const e = await failure(resolveApiKey({ env: {}, keyFile: path, cwd: dir }));
    expect(e.hint).toBe(`Run: chmod 600 '${path}'`);
  });

  it('names the env var and --api-key-file when nothing is configured', async () => {
    const e = await failure(resolveApiKey({ env: {}, cwd: dir }));
    expect(e.message).toContain('No relay API key');
    expect(e.hint).toContain('RELAY_API_KEY');
    expect(e.hint).toContain('--api-key-file');
  });

  it('treats an empty env var as unset and says so', async () => {
    const e = await failure(resolveApiKey({ env: { RELAY_API_KEY: '  ' }, cwd: dir }));
    expect(e.message).toContain('RELAY_API_KEY is set but empty');
    await keyFile(KEY);
    expect((await resolveApiKey({ env: { RELAY_API_KEY: '' }, keyFile: 'key', cwd: dir })).key).toBe(KEY);
  });

  it('reports a missing key file', async () => {
    const e = await failure(resolveApiKey({ env: {}, keyFile: 'nope', cwd: dir }));
    expect(e.message).toContain('does not exist');
    expect(e.message).toContain(join(dir, 'nope'));
  });

  it('refuses an empty key file', async () => {
    await keyFile('\n\n');
    const e = await failure(resolveApiKey({ env: {}, keyFile: 'key', cwd: dir }));
    expect(e.message).toContain('is empty');
  });

  it('refuses a key file with more than the key, without echoing it', async () => {
    await keyFile(`${KEY}\nsecond line\n`);
    const e = await failure(resolveApiKey({ env: {}, keyFile: 'key', cwd: dir }));
    expect(e.message).toContain('more than one line');
  });

  it('refuses a directory', async () => {
    const e = await failure(resolveApiKey({ env: {}, keyFile: dir, cwd: dir }));
    expect(e.message).toContain('not a regular file');
  });
});
