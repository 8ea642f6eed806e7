// The floor under the rollback figure of bench/run.mjs: the same two calls canary rollback makes
// (read the route, PATCH it) from a bare node:net script that writes HTTP by hand, reads only
// Content-Length, checks nothing and handles no error. Usage: node rollback-floor.cjs PORT ROUTE TAG
'use strict';
const [port, route, to] = process.argv.slice(2);
const socket = require('node:net').connect(Number(port), '127.0.0.1');
let buffered = '';
let waiting;
socket.setEncoding('utf8');
socket.on('data', (d) => {
  buffered += d;
  const end = buffered.indexOf('\r\n\r\n');
  const length = Number(/content-length: *(\d+)/i.exec(buffered.slice(0, end))?.[1]);
  if (end < 0 || buffered.length < end + 4 + length) return;
  const body = buffered.slice(end + 4, end + 4 + length);
  buffered = buffered.slice(end + 4 + length);
  waiting(JSON.parse(body));
});
const call = (method, path, body) =>
  new Promise((resolve) => {
    waiting = resolve;
    const json = body === undefined ? '' : JSON.stringify(body);
    socket.write(
      `${method} /v1${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${process.env.RELAY_API_KEY}\r\n` +
        (json ? `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n` : '') +
        '\r\n' +
        json,
    );
  });
(async () => {
  const current = await call('GET', `/routes/traffic/${route}`);
  const rules = current.route_rules.map((r) => ({
    version_tag: r.version_tag,
    weight: r.version_tag === to ? 100 : 0,
  }));
  const after = await call('PATCH', '/routes/traffic', { route_id: route, route_rules: rules });
  process.stdout.write(`${route}: ${JSON.stringify(after.route_rules)}\n`);
  socket.destroy();
})();
