/**
 * The `evaluation.judge` command: an LLM-as-judge or a team's eval script. For each prompt it
 * gets one JSON object on stdin — `{prompt_id, messages, baseline, canary, repeat}` — and prints
 * a score (a number, conventionally in [0, 1]) as the last non-empty line of stdout. It runs by
 * `sh -c` in the plan's folder, in its own process group, with the environment less the API key
 * (like `checks:`). A judge that fails, times out or prints no number stops the evaluation with
 * exit 2: a broken judge is the plan's problem, not the canary's, and no traffic has moved.
 */
import { spawn } from 'node:child_process';
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
  const { config } = options;
  return (input: JudgeInput) =>
    new Promise<number>((resolve, reject) => {
      const where = `evaluation.judge (\`${config.run}\`) on prompt ${input.prompt.id}`;
      const child = spawn('sh', ['-c', config.run], {
        cwd: options.cwd,
        env: options.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      let settled = false;
      const kill = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      };
      const finish = (error: Error | undefined, value?: number) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        input.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(value as number);
      };
      const onAbort = () => {
        kill();
        finish(input.signal?.reason instanceof Error ? input.signal.reason : new Error('aborted'));
      };
      input.signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => {
        kill();
        finish(new JudgeError(`${where} did not finish within ${formatDuration(config.timeoutMs)}`));
      }, config.timeoutMs);
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        stdout = (stdout + c).slice(-KEEP_CHARS);
      });
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        stderr = (stderr + c).slice(-KEEP_CHARS);
      });
      child.on('error', (error) => finish(new JudgeError(`${where} could not start: ${error.message}`)));
      child.on('close', (code, signal) => {
        if (code !== 0) {
          const why = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
          const said = lastLine(stderr) || lastLine(stdout);
          finish(new JudgeError(options.redact(`${where} ${why}${said ? `: ${said.slice(0, 200)}` : ''}`)));
          return;
        }
        const line = lastLine(stdout);
        const score = line === '' ? Number.NaN : Number(line);
        if (!Number.isFinite(score)) {
          finish(
            new JudgeError(
              options.redact(
                `${where} printed ${line === '' ? 'nothing' : JSON.stringify(line.slice(0, 80))} where a score (a number) was expected`,
              ),
            ),
          );
          return;
        }
        finish(undefined, score);
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
