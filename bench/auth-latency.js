// Measures what the HMAC guard adds to a request: parse, date and salt checks, the key lookup,
// AES-GCM opening of the secret, the HMAC comparison and the replay claim (an INSERT), called
// in-process on the compiled app (npm run build first) with a fresh signature each time.
// Usage: node bench/auth-latency.js [iterations]   (DATABASE_URL or an embedded PostgreSQL)
const os = require('node:os');
const { HmacAuthGuard } = require('../dist/src/common/auth/hmac-auth.guard');
const { authorization, startApi, timeSequential } = require('./lib/harness');

const iterations = Number(process.argv[2] ?? 2000);

async function main() {
  const api = await startApi();
  try {
    const guard = api.app.get(HmacAuthGuard);
    const context = (req) => ({
      getHandler: () => function handler() {},
      getClass: () => class Bench {},
      switchToHttp: () => ({ getRequest: () => req }),
    });
    const verify = (i) => guard.canActivate(context({ id: `bench-${i}`, headers: { authorization: authorization(api.key) } }));
    await timeSequential(200, verify); // warm-up: JIT, pool connections
    const guardMs = await timeSequential(iterations, verify);
    console.log(JSON.stringify({ guardMs, node: process.version, cpus: os.cpus().length }));
  } finally {
    await api.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
