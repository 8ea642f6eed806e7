/**
 * Whether anyone can be asked a question. One rule for every command that prompts, so that
 * "never a prompt in CI" holds everywhere: both ends are terminals and this is not CI.
 * Kept free of terminal libraries so the rollback bundle can use it.
 */
import ci from 'ci-info';
import type { Io, OutStream } from './io.js';

type Env = Record<string, string | undefined>;

/** Vendor-neutral CI variables ci-info also honours; vendor-specific ones need process.env. */
const NEUTRAL_CI_VARS = [
  'CI',
  'BUILD_ID',
  'BUILD_NUMBER',
  'CI_APP_ID',
  'CI_BUILD_ID',
  'CI_BUILD_NUMBER',
  'CI_NAME',
  'CONTINUOUS_INTEGRATION',
  'RUN_ID',
  'GITHUB_ACTIONS',
  'GITLAB_CI',
  'BUILDKITE',
  'TF_BUILD',
];

/**
 * ci-info reads process.env once at import, so an env passed in (tests, embedding) is checked
 * directly; ci-info's vendor table is consulted only when the env is the process's own.
 */
export function isCi(env: Env): boolean {
  if (env.CI === 'false' || env.CI === '0') return false;
  if (NEUTRAL_CI_VARS.some((name) => !!env[name])) return true;
  return env === process.env && ci.isCI;
}

/** True when a prompt drawn on `promptStream` (stdout by default) can be answered on stdin. */
export function canPrompt(
  io: Pick<Io, 'stdin' | 'stdout' | 'env'>,
  promptStream: OutStream = io.stdout,
): boolean {
  return io.stdin.isTTY === true && promptStream.isTTY === true && !isCi(io.env);
}
