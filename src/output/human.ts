// What the two human views (live and plain) have in common: where they write,
// how loud they are, their colours and the slowest-task tally for -v.
import type { ChalkInstance } from 'chalk';
import type { Reporter, RunEvent } from '../events.js';
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

  abstract emit(e: RunEvent): void;
  abstract close(): Promise<void>;
}
