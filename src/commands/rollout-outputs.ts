/**
 * Where a rollout's events go: the live view or plain lines or NDJSON on stdout, the GitHub
 * step summary in Actions, and a copy for --output-file; and the `::add-mask::` lines that go
 * out before any secret could.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { systemClock } from '../clock.js';
import type { Plan } from '../domain/plan.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { resolveApiKey } from '../relay/credentials.js';
import { GitHubReporter, maskCommand } from '../reporters/github.js';
import { createReporter } from '../reporters/index.js';
import { toJsonLine } from '../reporters/json.js';
import type { OutputMode, Reporter } from '../reporters/reporter.js';
import type { RolloutEvent } from '../rollout/events.js';

export interface ReporterChoice {
  mode: OutputMode;
  color: boolean;
  /** In GitHub Actions: the step summary and annotations too. */
  github: boolean;
  /** --report, named in the step summary. */
  reportFile: string | undefined;
  /** --output-file, opened already (openOutputFile). */
  outputFile: Reporter | undefined;
  /** The live view's last line: the keys a person at the terminal may press. */
  footer: () => string | undefined;
}

/** The reporter every event goes to, put together from the output mode and the flags. */
export function openReporter(choice: ReporterChoice, io: Io): Reporter {
  let reporter = createReporter(choice.mode, {
    stdout: io.stdout,
    stderr: io.stderr,
    color: choice.color,
    now: () => systemClock.now(),
    footer: choice.footer,
  });
  if (choice.github) {
    reporter = new GitHubReporter(reporter, choice.mode === 'json' ? io.stderr : io.stdout, {
      summaryFile: io.env.GITHUB_STEP_SUMMARY,
      reportFile: choice.reportFile,
      redact: io.redact,
      warn: (text) => io.stderr.write(`warning: ${text}\n`),
    });
  }
  return choice.outputFile ? new TeeReporter([reporter, choice.outputFile]) : reporter;
}

/** Writes the `::add-mask::` commands first, before the key or a webhook URL could appear anywhere. */
export async function maskSecrets(plan: Plan, io: Io, out: Io['stdout']): Promise<void> {
  const secrets: string[] = [];
  try {
    const fromEnv = io.env[plan.relay.apiKeyEnv]?.trim();
    if (plan.relay.url === 'emulator') {
      if (fromEnv) secrets.push(fromEnv);
    } else {
      const { key } = await resolveApiKey({
        env: io.env,
        envVar: plan.relay.apiKeyEnv,
        keyFile: plan.relay.apiKeyFile,
        cwd: path.dirname(plan.file),
      });
      secrets.push(key);
    }
  } catch {
    // A missing or bad key is reported by connect(), with the usual message and exit code.
  }
  for (const n of plan.notify ?? []) {
    const url = n.url ?? (n.urlEnv ? io.env[n.urlEnv]?.trim() : undefined);
    if (url) secrets.push(url);
  }
  for (const secret of secrets) out.write(maskCommand(secret));
}

/** `--output-file`: NDJSON, one event per line as `--output json` writes them, secrets redacted. */
export function openOutputFile(file: string, io: Io): Reporter {
  let fd: number;
  try {
    fd = openSync(path.resolve(io.cwd, file), 'w');
  } catch (error) {
    throw new UsageError(
      `cannot write --output-file ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  let failed = false;
  let closed = false;
  return {
    event(event) {
      if (failed || closed) return;
      try {
        writeSync(fd, io.redact(toJsonLine(event)));
      } catch (error) {
        failed = true; // warn once; the rollout itself carries on
        io.stderr.write(
          `warning: --output-file ${file}: ${error instanceof Error ? error.message : String(error)}; no more events are written to it\n`,
        );
      }
    },
    // Closed by the reporter that copies to it, or by the command if that reporter never came to
    // be: once only, as a second closeSync could close whatever file reused the number.
    async close() {
      if (closed) return;
      closed = true;
      try {
        closeSync(fd);
      } catch {
        // Already closed or gone.
      }
    },
  };
}

/** Hands every event to each reporter; one failing never stops the others. */
class TeeReporter implements Reporter {
  constructor(private readonly reporters: Reporter[]) {}

  event(event: RolloutEvent): void {
    for (const r of this.reporters) {
      try {
        r.event(event);
      } catch {
        // See the class comment.
      }
    }
  }

  async close(): Promise<void> {
    for (const r of this.reporters) await r.close().catch(() => {});
  }
}
