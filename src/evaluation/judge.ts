/**
 * The `evaluation.judge` command: an LLM-as-judge or a team's eval script. For each prompt it
 * gets one JSON object on stdin — `{prompt_id, messages, baseline, canary, repeat}` — and prints
 * a score (a number, conventionally in [0, 1]) as the last non-empty line of stdout. It runs by
 * `sh -c` in the plan's folder, in its own process group, with the environment less the API key
 * (like `checks:`). A judge that fails, times out or prints no number stops the evaluation with
 * exit 2: a broken judge is the plan's problem, not the canary's, and no traffic has moved.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { JudgeConfig } from '../domain/plan.js';
import { CanaryError, ExitCode } from '../errors.js';
import { formatDuration } from '../format.js';
import type { JudgeInput, JudgePort } from './types.js';

export class JudgeError extends CanaryError {
  constructor(message: string) {
    super(message, ExitCode.BadInput, {
      hint: 'the judge gets {prompt_id, messages, baseline, canary, repeat} as JSON on stdin and must exit 0 printing a number (e.g. 0.82) as its last line',
    });
  }
}

export interface JudgeRunnerOptions {
  config: JudgeConfig;
  cwd: string;
  /** The environment to pass (secrets already withheld by the caller). */
  env: Record<string, string>;
  redact: (text: string) => string;
}

const KEEP_CHARS = 16 * 1024;

function lastLine(text: string): string {
  return (
    text
      .trimEnd()
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '')
      .pop()
      ?.trim() ?? ''
  );
}

export function createJudge(options: JudgeRunnerOptions): JudgePort {
  return (input: JudgeInput) => judgeOnce(options, input);
}

/** One prompt's score: the judge run once, stopped by the timeout or the input's signal. */
function judgeOnce(options: JudgeRunnerOptions, input: JudgeInput): Promise<number> {
  const { config } = options;
  return new Promise<number>((resolve, reject) => {
    const where = `evaluation.judge (\`${config.run}\`) on prompt ${input.prompt.id}`;
    const child = spawn('sh', ['-c', config.run], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let settled = false;
    const finish = (error: Error | undefined, value?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      input.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(value as number);
    };
    const onAbort = () => {
      killGroup(child);
      finish(input.signal?.reason instanceof Error ? input.signal.reason : new Error('aborted'));
    };
    input.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      killGroup(child);
      finish(new JudgeError(`${where} did not finish within ${formatDuration(config.timeoutMs)}`));
    }, config.timeoutMs);
    const stdout = keepTail(child.stdout);
    const stderr = keepTail(child.stderr);
    child.on('error', (error) => finish(new JudgeError(`${where} could not start: ${error.message}`)));
    child.on('close', (code, signal) => {
      const result = scoreOf(code, signal, stdout(), stderr());
      if ('score' in result) finish(undefined, result.score);
      else finish(new JudgeError(options.redact(`${where} ${result.failure}`)));
    });
    // A judge that does not read its stdin closes the pipe early: that is its choice, not an error.
    child.stdin.on('error', () => {});
    child.stdin.end(
      JSON.stringify({
        prompt_id: input.prompt.id,
        messages: input.prompt.request.messages,
        baseline: input.baseline,
        canary: input.canary,
        repeat: input.repeat,
      }),
    );
  });
}

/** Kills the judge's whole process group (it runs detached, so `sh -c`'s children go too). */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** The last KEEP_CHARS of a stream's text: a chatty judge cannot fill memory. */
function keepTail(stream: Readable): () => string {
  let text = '';
  stream.setEncoding('utf8').on('data', (c: string) => {
    text = (text + c).slice(-KEEP_CHARS);
  });
  return () => text;
}

/**
 * What a finished judge said: the number on its last line when it exited 0, else why not, in
 * words that follow "<the judge> on prompt <id>" (not yet redacted).
 */
function scoreOf(
  code: number | null,
  signal: NodeJS.Signals | null,
  stdout: string,
  stderr: string,
): { score: number } | { failure: string } {
  if (code !== 0) {
    const why = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
    const said = lastLine(stderr) || lastLine(stdout);
    return { failure: `${why}${said ? `: ${said.slice(0, 200)}` : ''}` };
  }
  const line = lastLine(stdout);
  const score = line === '' ? Number.NaN : Number(line);
  if (!Number.isFinite(score)) {
    return {
      failure: `printed ${line === '' ? 'nothing' : JSON.stringify(line.slice(0, 80))} where a score (a number) was expected`,
    };
  }
  return { score };
}
