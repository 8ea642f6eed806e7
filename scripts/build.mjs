// Bundles the CLI into dist/ with code splitting, so each command loads only what it uses
// (prompts, tables, the emulator) and `canary rollback` starts almost as fast as Node.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  // Some CommonJS dependencies call require() at run time; give the ESM bundle one.
  banner: {
    js: "import { createRequire as __canaryCreateRequire } from 'node:module'; const require = __canaryCreateRequire(import.meta.url);",
  },
});
