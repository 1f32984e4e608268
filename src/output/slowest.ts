// -v ends with the slowest task/host pairs: where a run's time went. This
// keeps the tally; text.ts prints it (so this file needs nothing of text.ts).

export interface TaskTiming {
  task: string;
  host: string;
  durationMs: number;
}

export class SlowestTasks {
  private readonly all: TaskTiming[] = [];

  add(task: string, host: string, durationMs: number): void {
    this.all.push({ task, host, durationMs });
  }

  top(n = 10): TaskTiming[] {
    return [...this.all].sort((a, b) => b.durationMs - a.durationMs).slice(0, n);
  }
}
