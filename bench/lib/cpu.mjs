// CPU time of a child process (user+system, from /proc), for per-request cost figures that do
// not depend on how busy the machine is.
import { readFileSync } from 'node:fs';

const TICK_US = 1e6 / 100; // Linux USER_HZ is 100 on every supported platform

export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US; // utime + stime
}
