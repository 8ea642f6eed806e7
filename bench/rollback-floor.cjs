// The floor under the rollback figure of bench/run.mjs: the same two calls canary rollback makes
// (read the route, PATCH it) from a bare node:net script that writes HTTP by hand, reads only
// Content-Length or chunked bodies, checks nothing and handles no error. Usage:
// node rollback-floor.cjs PORT ROUTE TAG. bench/evaluation-floor.cjs uses its HTTP exchange.
'use strict';

/**
 * One keep-alive HTTP/1.1 connection with calls made one after another: `call` writes a request
 * and resolves with the parsed JSON body. Bodies come with Content-Length or chunked (any relay,
 * behind any proxy); nothing else about the answer is checked.
 */
function connection(socket, key) {
  let buffered = '';
  let waiting;
  socket.setEncoding('latin1');
  socket.on('data', (d) => {
    buffered += d;
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buffered.slice(0, end);
    let body;
    let rest;
    if (/transfer-encoding: *chunked/i.test(head)) {
      body = '';
      let at = end + 4;
      for (;;) {
        const line = buffered.indexOf('\r\n', at);
        if (line < 0) return;
        const size = Number.parseInt(buffered.slice(at, line), 16);
        if (size === 0) {
          const close = buffered.indexOf('\r\n\r\n', line);
          if (close < 0) return;
          rest = buffered.slice(close + 4);
          break;
        }
        if (buffered.length < line + 2 + size + 2) return;
        body += buffered.slice(line + 2, line + 2 + size);
        at = line + 2 + size + 2;
      }
    } else {
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1]);
      if (buffered.length < end + 4 + length) return;
      body = buffered.slice(end + 4, end + 4 + length);
      rest = buffered.slice(end + 4 + length);
    }
    buffered = rest;
    waiting(JSON.parse(Buffer.from(body, 'latin1').toString('utf8')));
  });
  return (method, path, payload) =>
    new Promise((resolve) => {
      waiting = resolve;
      const json = payload === undefined ? '' : JSON.stringify(payload);
      socket.write(
        `${method} /v1${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${key}\r\n` +
          (json ? `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n` : '') +
          '\r\n' +
          json,
      );
    });
}

module.exports = { connection };

if (require.main === module) {
  const [port, route, to] = process.argv.slice(2);
  const socket = require('node:net').connect(Number(port), '127.0.0.1');
  const call = connection(socket, process.env.RELAY_API_KEY);
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
}
