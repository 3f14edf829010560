// CPU time a process has used (user + system), read from /proc/<pid>/stat: what the process under
// test spent, without an endpoint in it and without counting the load generator.
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** Milliseconds of CPU the process has used so far. */
function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  return (ticks * 1000) / TICKS_PER_SECOND;
}

module.exports = { cpuMs };
