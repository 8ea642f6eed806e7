'use strict';
// `node bench/cached-run.cjs BUNDLE ARGS...`: runs one CommonJS bundle as bin/canary.cjs runs
// canary's, compiled through node:vm with a V8 code cache kept next to it (written by the first
// run), so a floor measured with it pays what canary pays to load code, and no more.
const { readFileSync, writeFileSync } = require('node:fs');
const { Script } = require('node:vm');

const file = process.argv[2];
process.argv.splice(2, 1);
const cacheFile = `${file}.cache`;
const source = readFileSync(file, 'utf8');
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {}
const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, {
  filename: file,
  cachedData,
});
if (cachedData === undefined || script.cachedDataRejected)
  process.once('exit', () => writeFileSync(cacheFile, script.createCachedData()));
const module_ = { exports: {} };
script.runInThisContext()(module_.exports, require, module_, file, __dirname);
