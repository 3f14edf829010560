// node bench/profile-top.js <file.cpuprofile> [n]: the functions with the most self time and the
// most total time (self plus callees, each function counted once per stack) in a V8 CPU profile,
// as written by `BENCH_API_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof' npm run bench`.
const fs = require('node:fs');

const [file, n = '25'] = process.argv.slice(2);
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const name = (node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};

// Sample counts weighted by the time deltas, so irregular sampling does not skew the figures.
const self = new Map();
const total = new Map();
let all = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  all += dt;
  const leaf = byId.get(id);
  self.set(name(leaf), (self.get(name(leaf)) ?? 0) + dt);
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const key = name(byId.get(at));
    if (seen.has(key)) continue;
    seen.add(key);
    total.set(key, (total.get(key) ?? 0) + dt);
  }
});

const top = (map) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(n))
    .map(([key, us]) => `${((100 * us) / all).toFixed(1).padStart(5)}%  ${key}`)
    .join('\n');
console.log(`${(all / 1e6).toFixed(1)} s sampled\n\nself time\n${top(self)}\n\ntotal time\n${top(total)}`);
