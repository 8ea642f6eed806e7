/**
 * The plan `canary init --yes` writes, for the judgement suites (bench/judge.ts and
 * bench/judge-custom.ts): a module of its own so neither suite imports the other.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderPlan } from '../../src/commands/init-template.js';
import type { Plan } from '../../src/domain/plan.js';
import { loadPlan } from '../../src/plan/load.js';
import { DEFAULT_LIMITS, findPreset } from '../../src/plan/presets.js';

/** The plan `canary init --yes` writes with its defaults (standard stages, 10 min bakes). */
export async function initPlan(): Promise<Plan> {
  const preset = findPreset('standard');
  const text = renderPlan({
    route: 'judge-route',
    baseline: 'judge-baseline',
    canary: 'judge-canary',
    model: 'anthropic/claude-sonnet-4-20250514',
    relayUrl: 'emulator',
    weights: preset?.weights ?? [5, 25, 50, 100],
    bake: preset?.bake ?? '10m',
    limits: { ...DEFAULT_LIMITS },
  });
  const dir = await mkdtemp(path.join(tmpdir(), 'canary-judge-'));
  const file = path.join(dir, 'canary.yaml');
  await writeFile(file, text);
  return loadPlan(file);
}
