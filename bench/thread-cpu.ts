/** CPU seconds of this process's threads from /proc (Linux): the main thread's and all the others' (libuv, workers, GC). */
import fs from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ). */
const TICK = 100;

export function threadCpu(): { main: number; other: number } {
  let main = 0;
  let other = 0;
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      const text = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      const cpu = (Number(f[11]) + Number(f[12])) / TICK;
      if (Number(t) === process.pid) main += cpu;
      else other += cpu;
    } catch {
      /* thread gone */
    }
  }
  return { main, other };
}
