// The disk's own commit latency: one writer that writes 8 KiB and waits for fdatasync (what a
// PostgreSQL commit waits for, wal_sync_method=fdatasync) at a fixed rate, open loop like
// paced.js and pgbench -R: each sync's latency counts from when it was due. Run in a process of its
// own (`node bench/lib/disk-sync.js <dir> <rate> <seconds>` prints JSON), so that the bench's event
// loop and collections do not count; `diskSync()` starts it from the bench.
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { promisify } = require('node:util');
const { percentile } = require('./percentile');

const PAGE = Buffer.alloc(8192, 'x');
/** Pages the file cycles through, so that it stays small and every write is an overwrite, as WAL segments are reused. */
const PAGES = 1024;

function measure(dir, rate, seconds) {
  const file = path.join(dir, `disk-sync-${process.pid}`);
  const fd = fs.openSync(file, 'w');
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const latencies = [];
  try {
    const start = performance.now();
    const total = Math.round(rate * seconds);
    for (let i = 0; i < total; i++) {
      const dueAt = start + (i * 1000) / rate;
      while (performance.now() < dueAt) Atomics.wait(pause, 0, 0, 0.2);
      fs.writeSync(fd, PAGE, 0, PAGE.length, (i % PAGES) * PAGE.length);
      fs.fdatasyncSync(fd);
      latencies.push(performance.now() - dueAt);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  latencies.sort((a, b) => a - b);
  const at = (p) => percentile(latencies, p);
  return { rps: Math.round(latencies.length / seconds), p50: at(0.5), p99: at(0.99), max: at(1) };
}

/** fdatasync latency in `dir` (put it on the database's disk) at `rate` a second for `seconds`. */
async function diskSync({ dir, rate, seconds }) {
  const { stdout } = await promisify(execFile)(process.execPath, [__filename, dir, String(rate), String(seconds)]);
  return JSON.parse(stdout);
}

if (require.main === module) {
  const [dir, rate, seconds] = process.argv.slice(2);
  process.stdout.write(JSON.stringify(measure(dir, Number(rate), Number(seconds))) + '\n');
}

module.exports = { diskSync };
