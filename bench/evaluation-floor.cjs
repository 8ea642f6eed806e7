// The floor under a rollout's CPU per evaluation (bench/rollout-cpu.mjs): the calls one
// evaluation makes (read the route, then the canary's and the baseline's metrics over a window,
// all three at once on three keep-alive connections), every INTERVAL ms, COUNT times, from a
// bare script that parses the answers and judges nothing. Whatever a rollout spends beyond it
// per evaluation is canary's own: the engine, the analysis, the reporter, the journal. Run once
// (COUNT 1), it is also the floor of `canary status --route R`, which makes the same three calls.
// Usage: node evaluation-floor.cjs PORT ROUTE CANARY BASELINE INTERVAL_MS COUNT
'use strict';
const net = require('node:net');
const { connection } = require('./rollback-floor.cjs');

const [port, route, canary, baseline, interval, count] = process.argv.slice(2);
const calls = [0, 1, 2].map(() =>
  connection(net.connect(Number(port), '127.0.0.1'), process.env.RELAY_API_KEY),
);
const metrics = (call, tag) => {
  const end = Date.now();
  const query = new URLSearchParams({
    version_tag: tag,
    start_time: new Date(end - 60_000).toISOString(),
    end_time: new Date(end).toISOString(),
  });
  return call('GET', `/metrics/versions?${query}`);
};
let done = 0;
const tick = async () => {
  await Promise.all([
    calls[0]('GET', `/routes/traffic/${route}`),
    metrics(calls[1], canary),
    metrics(calls[2], baseline),
  ]);
  done++;
  if (done < Number(count)) setTimeout(tick, Number(interval));
  else {
    process.stdout.write(`${JSON.stringify({ evaluations: done })}\n`);
    process.exit(0);
  }
};
tick();
