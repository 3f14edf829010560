// node bench/lib/unsigned-bodies.js <url> <seconds> <connections>: POSTs a ~1 MiB JSON array of
// zeros with `Authorization: x` for <seconds>, from a process of its own (so the load generator
// measuring GET /health beside it is not slowed by writing these), and prints what it got as JSON.
const autocannon = require('autocannon');

const [url, seconds, connections] = process.argv.slice(2);
const body = `{"a":[${'0,'.repeat(524_000)}0]}`;
autocannon({
  url,
  duration: Number(seconds),
  connections: Number(connections),
  requests: [{ method: 'POST', headers: { authorization: 'x', 'content-type': 'application/json' }, body }],
}).then((result) => {
  process.stdout.write(JSON.stringify({ rps: Math.round(result.requests.average), requests: result.requests.total, statuses: { '4xx': result['4xx'], other: result.requests.total - result['4xx'] } }));
});
