// The one nearest-rank percentile of the bench: the value at fraction `p` (0.5, 0.99) of an
// ascending list, in ms to two decimals.
function percentile(sorted, p) {
  return +sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(2);
}

module.exports = { percentile };
