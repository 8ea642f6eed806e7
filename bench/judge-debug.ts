// Replays one seed of one judgement scenario and prints its evaluations (debug aid).
import path from 'node:path';
import { FakeClock } from '../src/clock.js';
import { startEmulator } from '../src/emulator/index.js';
import { loadPlan } from '../src/plan/load.js';
import { createRelayClient } from '../src/relay/client.js';
import { undiciTransport } from '../src/relay/undici-transport.js';
import { runRollout } from '../src/rollout/engine.js';
import { SCENARIOS } from './judge/scenarios.js';

const [name, seedText, mode] = process.argv.slice(2);
const scenario = SCENARIOS.find((s) => s.name === name);
if (!scenario) throw new Error(`no scenario ${name}`);
const ROOT = process.env.JUDGE_ROOT ?? process.cwd();
const loaded = await loadPlan(path.join(ROOT, 'bench', 'judge', 'plan.yaml'));
const plan =
  mode === 'fixed' ? { ...loaded, analysis: { ...loaded.analysis, significance: undefined } } : loaded;
const clock = new FakeClock();
const emulator = await startEmulator({
  port: 0,
  apiKey: 'k-debug-1234',
  clock,
  scenario: scenario.emulator,
  rps: scenario.rps,
  seed: Number(seedText),
});
const client = createRelayClient({
  transport: undiciTransport,
  baseUrl: emulator.baseUrl,
  apiKey: 'k-debug-1234',
  keySource: 'debug',
  clock,
});
const t0 = clock.now();
const result = await runRollout(plan, {
  clock,
  relay: client,
  emit: (e) => {
    if (e.type === 'evaluation') {
      console.log(`${(e.at - t0) / 1000}s stage ${e.stage} ${e.evaluation.verdict}`);
      for (const c of e.evaluation.checks) console.log(`   ${c.status} ${c.reason}`);
    } else console.log(`${(e.at - t0) / 1000}s ${e.type}`);
  },
});
console.log(result.summary);
await client.close();
await emulator.close();
