// The GitHub Action's outputs (action.yml), from a rollout's NDJSON events: prints
// `name=value` lines for $GITHUB_OUTPUT. Usage: node github-action-outputs.mjs EVENTS EXIT_CODE
//
// Reads records of event schema version 1 (camelCase) and 2 (snake_case) alike, so the action
// also works with a `version:` input older or newer than itself.
import { readFileSync } from 'node:fs';

const [file, exitCode = ''] = process.argv.slice(2);
let text = '';
try {
  text = readFileSync(file, 'utf8');
} catch {
  // No file: canary stopped before writing any event (a bad plan or flag).
}

let finished;
let stage;
for (const line of text.split('\n')) {
  if (line.trim() === '') continue;
  let record;
  try {
    record = JSON.parse(line);
  } catch {
    continue; // a line cut short by a killed process
  }
  if (record.type === 'stage_started' && Number.isInteger(record.stage)) stage = record.stage + 1;
  if (record.type === 'rollout_finished') finished = record;
}

const outputs = {
  outcome: finished?.outcome ?? 'none',
  'exit-code': exitCode,
  stage: stage === undefined ? '' : String(stage),
  traffic: JSON.stringify(finished?.traffic ?? null),
  'events-file': file ?? '',
};
for (const [name, value] of Object.entries(outputs)) {
  // Values are one line each (JSON.stringify escapes newlines), so name=value is safe.
  process.stdout.write(`${name}=${String(value).replace(/[\r\n]/g, ' ')}\n`);
}
