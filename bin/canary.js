#!/usr/bin/env node
// Shim kept tiny so start-up is Node's own: cache compiled code, then load the bundled CLI.
import module from 'node:module';

module.enableCompileCache?.();
const { run } = await import('../dist/cli.js');
await run();
