/**
 * The tests' helpers, one entry: import from here, not from the modules behind it.
 *
 * - plan.ts: the plan builder (planYaml, planInTempDir…) and the tests' version tags;
 * - spawn.ts: the built CLI as a child process (runCli, baseEnv, ROOT, BIN), started in a fresh
 *   scratch folder (scratchCwd) unless a test names its cwd;
 * - emulators.ts: emulators on loopback for the spawned tests, routes seeded and read;
 * - runs.ts: a spawned run's scratch folder, journal and last line, and waiting for an event;
 * - emulator-process.ts: `canary emulator` as a process of its own;
 * - prometheus.ts: a real Prometheus scraping emulators;
 * - fake-relay.ts: an in-memory relay on a fake clock, for the engine's own tests;
 * - needs-tool.ts: skip (or, under CI, fail) the tests that need prometheus or chromium;
 * - pack.ts: the package as `npm pack` makes it, for the tests that install it.
 *
 * Two helpers are entries of their own, so that only the tests that drive them load native code
 * or a browser driver: pty.ts and screen.ts (node-pty, @xterm/headless) and browser.ts
 * (playwright-core).
 */
export * from './emulator-process.js';
export * from './emulators.js';
export * from './fake-relay.js';
export * from './needs-tool.js';
export * from './pack.js';
export * from './plan.js';
export * from './prometheus.js';
export * from './runs.js';
export * from './spawn.js';
