/**
 * `canary promote | pause | resume | abort`: reach a rollout running on this machine from another
 * shell, through the control socket in the state folder (src/control/channel.ts), and print what
 * the rollout answered. Self-contained on purpose (node:fs, node:net and the state-folder rule):
 * no relay client, no plan loader, no reporters, so these start as fast as a command can.
 *
 * Which route: `--route`, else the one rollout answering in the state folder (several: exit 2,
 * naming them; none: exit 6).
 */

import type { controlCommands, promoteCommand } from '../command-table/commands.js';
import type { CommandOptions } from '../command-table/define.js';
import {
  CONTROL_PROTOCOL_VERSION,
  type ControlAction,
  type ControlAnswer,
  controlSocketPath,
  MAX_REASON,
  requester,
  sendControl,
} from '../control/channel.js';
import { CanaryError, ExitCode, UsageError } from '../errors.js';
import { formatWeight } from '../format.js';
import type { Io } from '../io.js';
import { chooseStateDir, journalPath } from '../journal/paths.js';
import { recordLine } from '../output/record.js';
import { journalRoutes } from './list-routes.js';

export type ControlVerb = (typeof controlCommands)[number]['name'];

export type ControlCommandOptions = CommandOptions<typeof promoteCommand> & {
  /** How long to wait for the answer; an abort waits for the rollback itself. */
  waitMs?: number | undefined;
};

/** 0 when the run acted or took the request; 6 when it had finished first; 5 when it refused. */
function exitCodeOf(answer: ControlAnswer): number {
  if (!answer.ok) return answer.exit_code !== undefined ? ExitCode.NotRunning : ExitCode.Aborted;
  return ExitCode.Ok;
}

/** Routes whose control socket answers in the state folder (the routes its journals name). */
async function runningRoutes(stateDir: string): Promise<ControlAnswer[]> {
  const answers = await Promise.all(
    journalRoutes(stateDir).map((route) =>
      sendControl(controlSocketPath(stateDir, route), infoRequest(), 2_000),
    ),
  );
  return answers.flatMap((a) => (a.kind === 'answer' ? [a.answer] : []));
}

function infoRequest() {
  return {
    type: 'control_request' as const,
    version: CONTROL_PROTOCOL_VERSION,
    action: 'info' as ControlAction,
    ...requester(),
  };
}

function where(answer: ControlAnswer): string {
  const i = answer.info;
  const stage =
    i.stage === null
      ? 'before its first stage'
      : `stage ${i.stage + 1}/${i.stage_count} (canary ${formatWeight(i.weight)})`;
  return `${i.route} at ${stage}, pid ${i.pid} on ${i.host}`;
}

export async function runControlCommand(
  verb: ControlVerb,
  opts: ControlCommandOptions,
  io: Io,
): Promise<number> {
  if (opts.message !== undefined && opts.message.trim() === '') {
    throw new UsageError('-m/--message takes some text: why you are doing this.');
  }
  if (opts.message !== undefined && opts.message.length > MAX_REASON) {
    throw new UsageError(`-m/--message is limited to ${MAX_REASON} characters (got ${opts.message.length}).`);
  }
  const { dir: stateDir } = chooseStateDir({ flag: opts.stateDir, env: io.env, cwd: io.cwd });
  let route = opts.route;
  if (route === undefined) {
    const running = await runningRoutes(stateDir);
    if (running.length === 0) throw notRunning(stateDir, undefined);
    if (running.length > 1) {
      throw new UsageError(
        `${running.length} rollouts are running with the state folder ${stateDir}; nothing was sent:\n${running.map((a) => `  ${where(a)}`).join('\n')}`,
        { hint: `name one with --route, e.g. canary ${verb} --route ${running[0]?.info.route}` },
      );
    }
    route = (running[0] as ControlAnswer).info.route;
  }
  const socketPath = controlSocketPath(stateDir, route);
  const timeout = opts.waitMs ?? (verb === 'abort' ? 90_000 : 10_000);
  const result = await sendControl(
    socketPath,
    {
      type: 'control_request',
      version: CONTROL_PROTOCOL_VERSION,
      action: verb,
      full: opts.full || undefined,
      reason: opts.message?.trim(),
      ...requester(),
    },
    timeout,
  );
  if (result.kind === 'not_running') throw notRunning(stateDir, route);
  if (result.kind === 'no_answer') {
    throw new CanaryError(`the rollout of ${route} did not answer: ${result.why}.`, ExitCode.Aborted, {
      hint: `\`canary status --route ${route}\` shows where it is; \`canary rollback --route ${route}\` works whatever state it is in.`,
    });
  }
  const { answer } = result;
  if (opts.output === 'json') {
    io.stdout.write(
      recordLine('control_answer', {
        action: verb,
        route,
        ok: answer.ok,
        queued: answer.queued ?? false,
        message: answer.message,
        exit_code: answer.exit_code ?? null,
        rollout: answer.info ?? null,
      }),
    );
  } else {
    const prefix = answer.ok ? (answer.queued ? 'queued' : 'done') : 'not done';
    io.stdout.write(`${prefix}: ${answer.message}\n`);
    io.stdout.write(`  rollout: ${where(answer)}\n`);
  }
  return exitCodeOf(answer);
}

function notRunning(stateDir: string, route: string | undefined): CanaryError {
  const what = route ? `no rollout of ${route} is running` : 'no rollout is running';
  return new CanaryError(
    `${what} with the state folder ${stateDir}; nothing was sent.`,
    ExitCode.NotRunning,
    {
      hint: route
        ? `check the folder (--state-dir, $CANARY_STATE_DIR, or run from the folder you started it in); a rollout on another machine is stopped with \`canary rollback --route ${route}\`, which it notices as drift. The journal ${journalPath(stateDir, route)} has its history.`
        : 'run from the folder the rollout was started in (or pass --state-dir); `canary history` lists past runs.',
    },
  );
}
