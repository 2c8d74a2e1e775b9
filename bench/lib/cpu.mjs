// CPU time of a child process (user+system, from /proc), for per-request cost figures that do
// not depend on how busy the machine is.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_US = 1e6 / 100; // Linux USER_HZ is 100 on every supported platform

export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US; // utime + stime
}

/**
 * CPU time of a server and every process below it, including those that have exited since
 * (a Postgres backend whose connection closed): the live processes' own time plus the time the
 * root has collected from its reaped children (cutime + cstime). `pids[0]` is the root.
 */
export function treeCpuMicros(pids) {
  let total = 0;
  pids.forEach((pid, i) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12]) + (i === 0 ? Number(f[13]) + Number(f[14]) : 0)) * TICK_US;
    } catch {
      // gone between listing and reading: its time is in the root's collected time once reaped
    }
  });
  return total;
}

/**
 * CPU time of a live process at nanosecond resolution (every thread's run time from
 * /proc/<pid>/task/<tid>/schedstat, in microseconds), for short measurement windows where
 * clock ticks (10 ms) would be too coarse. Threads that exited are not counted.
 */
export function preciseCpuMicros(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return ns / 1000;
}
