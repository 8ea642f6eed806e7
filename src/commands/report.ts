/**
 * `canary report [RUN]`: one self-contained HTML page of a rollout (src/report/). Reads files
 * only; never touches the relay.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { reportCommand } from '../command-table/commands.js';
import type { CommandOptions } from '../command-table/define.js';
import { ExitCode } from '../errors.js';
import { isCi } from '../interactive.js';
import type { Io } from '../io.js';
import { resolveStateDir } from '../journal/paths.js';
import { resolveReportSource } from '../report/source.js';
import { defaultReportName, writeReport } from '../report/write.js';

export type ReportCommandOptions = CommandOptions<typeof reportCommand>;

/** The platform's "open this file" command, when a person could see a browser here. */
function opener(env: Record<string, string | undefined>): { cmd: string; args: string[] } | undefined {
  if (isCi(env)) return undefined;
  if (process.platform === 'darwin') return { cmd: 'open', args: [] };
  if (process.platform === 'win32') return { cmd: 'cmd', args: ['/c', 'start', '""'] };
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return { cmd: 'xdg-open', args: [] };
  return undefined;
}

function openInBrowser(file: string, io: Io): void {
  const how = opener(io.env);
  if (!how) {
    io.stderr.write(`no browser to open here (no display, or CI); open ${file} yourself.\n`);
    return;
  }
  try {
    const child = spawn(how.cmd, [...how.args, file], { detached: true, stdio: 'ignore' });
    child.on('error', (error) =>
      io.stderr.write(`could not open a browser (${how.cmd}: ${error.message}); open ${file} yourself.\n`),
    );
    child.unref();
  } catch (error) {
    io.stderr.write(
      `could not open a browser (${error instanceof Error ? error.message : String(error)}); open ${file} yourself.\n`,
    );
  }
}

export async function runReportCommand(opts: ReportCommandOptions, io: Io): Promise<number> {
  const stateDir = resolveStateDir({ flag: opts.stateDir, env: io.env, cwd: io.cwd });
  const source = resolveReportSource({ run: opts.run, stateDir, cwd: io.cwd });
  const now = Date.now();
  const file = path.resolve(io.cwd, opts.out ?? defaultReportName(source.route, source.run, now));
  const model = await writeReport(source.records, { label: source.label, file, io, now });
  for (const lack of model.lacks) io.stderr.write(`note: ${source.label} does not record ${lack}\n`);
  io.stdout.write(
    `report: ${path.relative(io.cwd, file) || file} (route ${model.route}, ${model.outcome ?? 'no outcome'}, ${model.stages.length} stages, ${model.evaluationCount} evaluations)\n`,
  );
  if (opts.open) openInBrowser(file, io);
  return ExitCode.Ok;
}
