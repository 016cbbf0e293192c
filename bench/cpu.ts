// CPU time of this process and every process below it (the gateway's or the baseline's CLI
// processes), read from /proc: unlike the machine's /proc/stat, it does not count what other work
// on the machine spends. A child that exits during a run moves its CPU into our cutime, so the
// difference of two readings is what the tree spent in between.
import fs from 'node:fs';

const TICK = 100; // USER_HZ on Linux

function stat(pid: number | 'self'): { ppid: number; cpu: number } | undefined {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // After "pid (comm) ": state ppid ... utime(11) stime(12) cutime(13) cstime(14)
    return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICK };
  } catch {
    return undefined;
  }
}

/** Seconds of CPU spent so far by this process and its descendants (living and reaped). */
export function treeCpuSeconds(): number {
  const all = new Map<number, { ppid: number; cpu: number }>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s) all.set(Number(name), s);
  }
  const mine = new Set([process.pid]);
  let total = 0;
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, s] of all) {
      if (!mine.has(pid) && mine.has(s.ppid)) {
        mine.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of mine) total += all.get(pid)?.cpu ?? 0;
  return total;
}

/** Busy CPU seconds of the whole machine so far (all processes, ours and everyone else's). */
export function machineCpuSeconds(): number {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / TICK;
}
