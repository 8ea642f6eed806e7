'use strict';
// The floor of `canary validate examples/quickstart.yaml` (npm run bench, a reference without a
// target): what any Node program checking that plan must do at the least, and nothing else.
// It parses the plan and the scenario file it names with yaml, keeping positions as canary's
// reader does (a LineCounter, unique keys, strict), reads the prompt lines as JSON, and prints
// one line with fs.writeSync: no checks, no messages, no flags. bench/run.mjs bundles it with
// yaml into one file and runs it through bench/cached-run.cjs with a V8 code cache, as
// bin/canary.cjs runs canary's own bundles, so the figure is parsing's cost, not Node's module
// loader's (yaml required the usual way, 40 files, costs more than all of `canary validate`).
const { readFileSync, writeSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { LineCounter, parseDocument } = require('yaml');

const plan = process.argv[2];
const options = () => ({
  lineCounter: new LineCounter(),
  prettyErrors: false,
  uniqueKeys: true,
  strict: true,
});
const doc = parseDocument(readFileSync(plan, 'utf8'), options());
const folder = dirname(plan);
const scenario = doc.getIn(['emulator', 'scenario']);
if (typeof scenario === 'string') parseDocument(readFileSync(join(folder, scenario), 'utf8'), options());
// One prompt file (`prompts: ./set.jsonl`, as the quickstart writes it) or a list of them.
const prompts = doc.getIn(['evaluation', 'prompts']);
const promptFiles =
  typeof prompts === 'string' ? [prompts] : (prompts?.items?.map((item) => item.value) ?? []);
for (const file of promptFiles) {
  for (const line of readFileSync(join(folder, file), 'utf8').split('\n')) if (line.trim()) JSON.parse(line);
}
// Straight to the descriptor, as canary validate writes a pipe or a file (src/direct-output.ts):
// process.stdout for a pipe costs ≈ 2.5 ms to build, and no program has to pay it to print.
writeSync(1, doc.errors.length === 0 ? `${plan} is valid\n` : `${plan} is not valid\n`);
