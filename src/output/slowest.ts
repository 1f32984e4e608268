// -v ends with the slowest task/host pairs: where a run's time went.
import type { ChalkInstance } from 'chalk';
import { seconds } from './text.js';

export class SlowestTasks {
  private readonly all: Array<{ task: string; host: string; durationMs: number }> = [];

  add(task: string, host: string, durationMs: number): void {
    this.all.push({ task, host, durationMs });
  }

  top(n = 10) {
    return [...this.all].sort((a, b) => b.durationMs - a.durationMs).slice(0, n);
  }

  text(c: ChalkInstance, n = 10): string {
    const rows = this.top(n);
    if (rows.length === 0) return '';
    return [
      c.bold('\nSLOWEST TASKS'),
      ...rows.map((r) => `${seconds(r.durationMs).padStart(8)}  [${r.host}] ${r.task}`),
    ].join('\n');
  }
}
