/** Packs the repository as `npm publish` would, for tests that install the package it makes. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './spawn.js';

export const execFileAsync = promisify(execFile);

/** `npm` with scripts off: `npm pack` would otherwise run `prepare` and rebuild dist/ under the other tests. */
export function npm(args: string[], cwd = ROOT) {
  return execFileAsync('npm', [...args, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** Packs the built package into `dir`; returns the tarball's path. */
export async function packTarball(dir: string): Promise<string> {
  const { stdout } = await npm(['pack', '--json', '--pack-destination', dir]);
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  if (!packed) throw new Error(`npm pack printed no tarball: ${stdout}`);
  return join(dir, packed.filename);
}
