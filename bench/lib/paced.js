// Open-loop load at a fixed rate: request i is due at start + i / rate, whatever became of the
// ones before it, and its latency counts from when it was due. autocannon's `overallRate` instead
// lets each connection send its share as fast as it can at the top of every second and then wait,
// which measures bursts at full concurrency, not a steady half load.
const http = require('node:http');
const { percentile } = require('./percentile');

/**
 * `makeRequest()` answers { method, path, headers, body }; at most `connections` requests are in
 * flight (keep-alive sockets), the rest wait for a socket, and that wait counts in their latency.
 * The first `warmupSeconds` run at the same rate but are not counted: they open the sockets,
 * which otherwise puts the first ~100 requests (2% of a 10 s run, so the p99) at 20–50 ms.
 */
async function paced({ base, rate, seconds, connections, makeRequest, warmupSeconds = 1 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const url = new URL(base);
  const latencies = [];
  let errors = 0;
  const inFlight = new Set();
  const send = (dueAt, counted) => {
    const { method, path, headers, body } = makeRequest();
    const done = new Promise((resolve) => {
      const req = http.request({ agent, host: url.hostname, port: url.port, method, path, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode < 200 || res.statusCode >= 300) errors++;
          else if (counted) latencies.push(performance.now() - dueAt);
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
    inFlight.add(done);
    done.then(() => inFlight.delete(done));
  };
  const start = performance.now();
  const warmup = Math.round(rate * warmupSeconds);
  const total = warmup + Math.round(rate * seconds);
  const dueAt = (i) => start + (i * 1000) / rate;
  for (let sent = 0; sent < total; ) {
    const now = performance.now();
    for (; sent < total && dueAt(sent) <= now; sent++) send(dueAt(sent), sent >= warmup);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p) => (latencies.length ? percentile(latencies, p) : null);
  return { rps: Math.round(latencies.length / seconds), p50: at(0.5), p99: at(0.99), requests: total - warmup, errors };
}

module.exports = { paced };
