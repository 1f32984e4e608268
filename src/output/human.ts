// What the two human views (live and plain) have in common: where they write,
// how loud they are, their colours and the slowest-task tally for -v.
import type { ChalkInstance } from 'chalk';
import type { Reporter, RunEvent } from '../events.js';
import { deepTerminalSafe } from './escape.js';
import { SlowestTasks } from './slowest.js';
import { makeChalk } from './text.js';

export abstract class HumanReporter implements Reporter {
  protected readonly c: ChalkInstance;
  protected readonly slowest = new SlowestTasks();

  constructor(
    protected readonly out: NodeJS.WriteStream,
    protected readonly verbosity: number,
    protected readonly diff: boolean,
  ) {
    this.c = makeChalk(out);
  }

  /** Renders an event whose strings are terminal-safe (a result's fields are escaped where they are shown). */
  emit(e: RunEvent): void {
    this.render(
      e.type === 'host_result' ? { ...deepTerminalSafe({ ...e, result: {} }), result: e.result } : deepTerminalSafe(e),
    );
  }

  protected abstract render(e: RunEvent): void;
  abstract close(): Promise<void>;
}
