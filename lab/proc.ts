// Process liveness from /proc, for the lab's process bookkeeping.
import { readFileSync } from 'node:fs';

/** Whether `pid` runs: a zombie still answers signal 0, so it counts as gone. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
