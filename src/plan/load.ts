/**
 * The one place plan files are read: bytes → YAML with positions → validated, normalised Plan.
 * Every problem is collected and thrown at once as a PlanError; an unreadable file is a
 * CanaryError(BadInput) naming the file.
 */
// Synchronous reads of one small file: node:fs/promises (with the stream and readline modules
// it loads) would cost `canary validate` about 1 ms to load, for nothing a plan needs.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Plan } from '../domain/plan.js';
import { CanaryError, ExitCode, PlanError, type PlanProblem, readFailure } from '../errors.js';
import { type Entry, entryAt, PlanReader } from './reader.js';
import { readPlan } from './schema.js';
import { MAX_SOURCE_BYTES, SourceFile } from './yaml-source.js';

export interface LoadOptions {
  /** Folder a relative plan path is resolved against (default: the process's). */
  cwd?: string;
}

export async function loadPlan(file: string, options: LoadOptions = {}): Promise<Plan> {
  return (await loadPlanWithSource(file, options)).plan;
}

export interface LoadedPlan {
  plan: Plan;
  /** line:column of the node at a key path (aliases not followed), for checks made after loading. */
  locate(keys: Array<string | number>): { line: number; column: number };
  /**
   * Reads the value at a key path with another walker (validate reads an inline scenario with
   * the scenario's), returning its problems at their own line:column in the plan.
   */
  readAt(keys: string[], read: (r: PlanReader, entry: Entry) => unknown): PlanProblem[];
}

/** loadPlan, keeping a way back to source positions (validate reports scenario problems with it). */
export async function loadPlanWithSource(file: string, options: LoadOptions = {}): Promise<LoadedPlan> {
  const absolute = resolve(options.cwd ?? process.cwd(), file);
  const bytes = readPlanBytes(file, absolute);
  const { plan, src } = parseSource(decode(bytes, file), file, absolute, () => sha256(bytes));
  checkScenarioFile(plan, src);
  return {
    plan,
    locate: (keys) => src.positionOf(keys),
    readAt: (keys, read) => {
      const before = src.problems.length;
      const entry = entryAt(src, keys);
      if (entry) read(new PlanReader(src), entry);
      return src.problems.slice(before);
    },
  };
}

/** Parses plan text; `file` names it in problems and anchors its relative paths. */
export function parsePlan(text: string, file: string, options: LoadOptions = {}): Plan {
  const absolute = resolve(options.cwd ?? process.cwd(), file);
  return parseSource(text, file, absolute, () => sha256(Buffer.from(text, 'utf8'))).plan;
}

function parseSource(
  text: string,
  file: string,
  absolute: string,
  hash: () => string,
): { plan: Plan; src: SourceFile } {
  const src = new SourceFile(file, text);
  const plan = src.parse() ? readPlan(src, { absoluteFile: absolute, hash: '' }) : undefined;
  if (plan === undefined || src.problems.length > 0) throw planError(src.problems, file);
  // Hashed when first read: node:crypto costs ≈ 2 ms to load, and `canary validate`, which
  // pre-commit hooks and editors run constantly, shows the hash only in its JSON output.
  let digest: string | undefined;
  Object.defineProperty(plan, 'hash', {
    get: () => {
      digest ??= hash();
      return digest;
    },
    enumerable: true,
    configurable: true,
  });
  return { plan, src };
}

function planError(problems: PlanProblem[], file: string): PlanError {
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
  if (sorted.length === 0) {
    // Defensive: a refused plan always says why.
    sorted.push({ file, line: 1, column: 1, path: '', message: 'the plan is not valid' });
  }
  return new PlanError(sorted, { hint: `fix the problems above, then run: canary validate ${file}` });
}

function sha256(bytes: Uint8Array): string {
  const { createHash } = process.getBuiltinModule('node:crypto');
  return createHash('sha256').update(bytes).digest('hex');
}

function readPlanBytes(file: string, absolute: string): Buffer {
  try {
    const info = statSync(absolute);
    if (!info.isFile()) {
      throw new CanaryError(`cannot read plan ${file}: not a file`, ExitCode.BadInput);
    }
    if (info.size > MAX_SOURCE_BYTES) throw tooLarge(file, info.size);
    const bytes = readFileSync(absolute);
    // The file may have grown between stat and read.
    if (bytes.byteLength > MAX_SOURCE_BYTES) throw tooLarge(file, bytes.byteLength);
    return bytes;
  } catch (error) {
    if (error instanceof CanaryError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = readFailure(error);
    throw new CanaryError(`cannot read plan ${file}: ${reason}`, ExitCode.BadInput, {
      hint: code === 'ENOENT' ? 'check the path; `canary init` writes a starter plan' : undefined,
      cause: error,
    });
  }
}

function tooLarge(file: string, size: number): PlanError {
  return new PlanError([
    {
      file,
      line: 1,
      column: 1,
      path: '',
      message: `the file is ${(size / (1024 * 1024)).toFixed(1)} MiB; plans are limited to 1 MiB`,
    },
  ]);
}

function decode(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new PlanError([{ file, line: 1, column: 1, path: '', message: 'the file is not UTF-8 text' }]);
  }
}

/** With the emulator, a scenario file that does not exist would only fail once the rollout starts. */
function checkScenarioFile(plan: Plan, src: SourceFile): void {
  const scenario = plan.emulator?.scenario;
  if (plan.relay.url !== 'emulator' || typeof scenario !== 'string') return;
  try {
    if (statSync(scenario).isFile()) return;
  } catch {
    // reported below
  }
  src.problemAtPath(
    ['emulator', 'scenario'],
    'emulator.scenario',
    `emulator.scenario: no such file ${scenario}`,
  );
  throw planError(src.problems, src.file);
}
