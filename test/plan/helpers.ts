import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CanaryError, PlanError } from '../../src/errors.js';
import { createIo, type Io } from '../../src/io.js';
import { parsePlan } from '../../src/plan/load.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures/plans/', import.meta.url));

/** The smallest valid plan; cases below replace or append lines, so positions stay readable. */
export const MINIMAL = [
  'relay:',
  '  url: https://relay.example.com/v1',
  'route: code-review-production',
  'baseline:',
  '  version_tag: claude-sonnet-4-5-v1',
  'canary:',
  '  version_tag: claude-sonnet-4-5-v2',
  'stages: [5, 25, 50, 100]',
];

export function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

/** Problems of a plan as `line:column: message`, or [] when it is valid. */
export function problemsOf(text: string): string[] {
  try {
    parsePlan(text, 'plan.yaml', { cwd: '/plans' });
    return [];
  } catch (error) {
    if (error instanceof PlanError) return error.problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
    throw error;
  }
}

export function planErrorOf(text: string): PlanError {
  try {
    parsePlan(text, 'plan.yaml', { cwd: '/plans' });
  } catch (error) {
    if (error instanceof PlanError) return error;
    throw error;
  }
  throw new Error('expected a PlanError');
}

export function isExpectedError(error: unknown): boolean {
  return error instanceof PlanError || error instanceof CanaryError;
}

export interface CapturedIo {
  io: Io;
  stdout: () => string;
  stderr: () => string;
}

export function captureIo(
  cwd: string,
  env: Record<string, string | undefined> = {},
  isTTY = false,
): CapturedIo {
  let out = '';
  let err = '';
  const io = createIo({
    stdout: {
      isTTY,
      write: (chunk: string) => {
        out += chunk;
        return true;
      },
    },
    stderr: {
      isTTY,
      write: (chunk: string) => {
        err += chunk;
        return true;
      },
    },
    stdin: new PassThrough(),
    env,
    cwd,
  });
  return { io, stdout: () => out, stderr: () => err };
}
