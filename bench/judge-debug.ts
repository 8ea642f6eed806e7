// Replays seeds of one plan against one scenario and prints every look (a debugging aid):
//   npm run judge -- debug <plan.yaml> <scenario.yaml> [first-seed-index] [count] [--failed]
import path from 'node:path';
import { loadScenario } from '../src/emulator/index.js';
import { loadPlan } from '../src/plan/load.js';
import type { RolloutEvent } from '../src/rollout/events.js';
import { runSeed, scrambledSeed } from '../src/simulate/run-seed.js';

export async function debugMain(args: string[]): Promise<void> {
  const [planFile, scenarioFile, first = '1', count = '1'] = args.filter((a) => !a.startsWith('--'));
  const onlyFailed = args.includes('--failed');
  if (!planFile || !scenarioFile)
    throw new Error('usage: debug <plan> <scenario> [first] [count] [--failed]');
  const plan = await loadPlan(path.resolve(planFile));
  const scenario = await loadScenario(path.resolve(scenarioFile));
  for (let i = Number(first); i < Number(first) + Number(count); i++) {
    const lines: string[] = [];
    let t0: number | null = null;
    const onEvent = (e: RolloutEvent) => {
      t0 ??= e.at;
      const t = `${((e.at - t0) / 1000).toFixed(0)}s`;
      if (e.type === 'evaluation') {
        lines.push(
          `${t} stage ${e.stage + 1} ${e.evaluation.verdict} ${JSON.stringify(e.evaluation.error_control ?? {})}`,
        );
        for (const c of e.evaluation.checks) lines.push(`     ${c.status} ${c.reason}`);
      } else if (e.type !== 'weights_set' && e.type !== 'preflight') lines.push(`${t} ${e.type}`);
    };
    const run = await runSeed(
      { plan, scenario, rps: scenario.rps ?? plan.emulator?.rps ?? 200, onEvent },
      scrambledSeed(i),
    );
    if (onlyFailed && run.outcome === 'promoted') continue;
    console.log(`── seed #${i} (${run.seed}): ${run.outcome} ${run.cause ?? ''} — ${run.summary}`);
    console.log(lines.join('\n'));
  }
}
