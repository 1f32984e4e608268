// Plain lines, for CI logs and pipes: one line per host result, Ansible-like.
import type { RunEvent } from '../events.js';
import { HumanReporter } from './human.js';
import { formatLoc } from '../errors.js';
import { banner, hostResultText, sharedEventText } from './text.js';

export class PlainReporter extends HumanReporter {
  private module = '';

  protected render(e: RunEvent): void {
    const c = this.c;
    const shared = sharedEventText(c, e, this.slowest, this.verbosity);
    if (shared !== undefined) {
      if (shared) this.line(shared);
      return;
    }
    switch (e.type) {
      case 'task_start':
        this.module = e.module;
        this.line(
          `\n${banner(c, `${e.handler ? 'RUNNING HANDLER' : 'TASK'} [${e.task}]`)}${this.verbosity >= 2 ? c.dim(`\ntask path: ${formatLoc(e.loc)}`) : ''}`,
        );
        break;
      case 'host_result':
        if (e.item === undefined) this.slowest.add(e.task, e.host, e.durationMs);
        // a loop's items were shown one by one; its summary line would repeat them (a loop over none has only it)
        if (
          e.item === undefined &&
          Array.isArray(e.result.results) &&
          e.result.results.length > 0 &&
          e.status !== 'failed'
        )
          break;
        this.line(hostResultText(c, e, this.module, this.verbosity, this.diff));
        break;
      case 'command':
        this.line(c.dim(`<${e.host}> EXEC ${e.command}`));
        break;
      case 'debug':
        this.line(c.dim(`<${e.host}> ${e.message}`));
        break;
    }
  }

  private line(s: string): void {
    this.out.write(s + '\n');
  }

  async close(): Promise<void> {}
}
