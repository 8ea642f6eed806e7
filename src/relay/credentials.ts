// Synchronous reads of one small file: node:fs/promises would cost `canary rollback` about 4 ms to load.
import { readFileSync, type Stats, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { CredentialsError } from '../errors.js';

export const DEFAULT_KEY_ENV_VAR = 'RELAY_API_KEY';

export interface ResolvedApiKey {
  key: string;
  /** Where the key came from, for messages: `env RELAY_API_KEY` or `key file ~/.canary/key`. */
  source: string;
}

function shellQuote(path: string): string {
  return /^[\w@%+=:,./~-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

function expandHome(path: string, env: Record<string, string | undefined>): string {
  if (path === '~' || path.startsWith('~/')) {
    // node:os only here, where a key file's path starts with ~: loading it costs every
    // `canary rollback` about 0.4 ms, and this module is on its path.
    return (env.HOME ?? process.getBuiltinModule('node:os').homedir()) + path.slice(1);
  }
  return path;
}

/** A bearer token is one header value; whitespace inside means a wrong file or a pasted mistake. */
function checkShape(key: string, source: string): void {
  if (key.length === 0) {
    throw new CredentialsError(`The API key from ${source} is empty.`, {
      hint: 'Put the relay API key in it (one line).',
    });
  }
  if (/\s/.test(key)) {
    throw new CredentialsError(`The API key from ${source} contains whitespace or more than one line.`, {
      hint: 'It must hold the key alone, on one line.',
    });
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(key)) {
    throw new CredentialsError(`The API key from ${source} contains control characters.`);
  }
}

/**
 * Finds the relay API key: the environment variable first, else the key file. Messages
 * name where the key was looked for and never the key itself.
 */
export async function resolveApiKey(options: {
  env: Record<string, string | undefined>;
  envVar?: string;
  keyFile?: string | undefined;
  cwd: string;
}): Promise<ResolvedApiKey> {
  const envVar = options.envVar ?? DEFAULT_KEY_ENV_VAR;
  const fromEnv = options.env[envVar];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const source = `env ${envVar}`;
    const key = fromEnv.trim();
    checkShape(key, source);
    return { key, source };
  }

  if (options.keyFile === undefined || options.keyFile === '') {
    const emptyNote = fromEnv !== undefined ? ` (${envVar} is set but empty)` : '';
    throw new CredentialsError(`No relay API key found${emptyNote}.`, {
      hint: `Set ${envVar}, or pass --api-key-file <path> pointing to a file that holds the key (chmod 600).`,
    });
  }

  const given = options.keyFile;
  const source = `key file ${given}`;
  const expanded = expandHome(given, options.env);
  const path = isAbsolute(expanded) ? expanded : resolve(options.cwd, expanded);

  let info: Stats;
  try {
    info = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CredentialsError(`The key file ${given} does not exist (looked at ${path}).`, {
        hint: `Create it with the relay API key on one line and run chmod 600 ${shellQuote(path)}, or set ${envVar}.`,
        cause: error,
      });
    }
    throw new CredentialsError(`Cannot read the key file ${given}: ${code ?? String(error)}.`, {
      cause: error,
    });
  }
  if (!info.isFile()) {
    throw new CredentialsError(`The key file ${given} is not a regular file.`, {
      hint: 'Point --api-key-file at the file that holds the key.',
    });
  }
  // Windows has no POSIX mode bits worth checking.
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(3, '0');
    throw new CredentialsError(
      `The key file ${given} is readable by other users (mode ${mode}); refusing to use it.`,
      { hint: `Run: chmod 600 ${shellQuote(path)}` },
    );
  }

  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CredentialsError(`Cannot read the key file ${given}: ${code ?? 'unknown error'}.`, {
      hint: code === 'EACCES' ? `Make it readable by you: chmod 600 ${shellQuote(path)}` : undefined,
      cause: error,
    });
  }
  const key = text.replace(/^\uFEFF/, '').trim();
  checkShape(key, source);
  return { key, source };
}
