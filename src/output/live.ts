// The live view on a terminal: one listr2 line per task that spins while its
// hosts run, shows each host as it finishes, then settles into a summary.
// Failures, diffs and -v details are printed below it as in the plain view.
import { Listr, type ListrTaskWrapper, type ListrDefaultRenderer, type ListrSimpleRenderer } from 'listr2';
import type { HostStatus, RunEvent } from '../events.js';
import { HumanReporter } from './human.js';
import { hostResultText, seconds, sharedEventText, statusColor } from './text.js';

type Wrapper = ListrTaskWrapper<unknown, ListrDefaultRenderer, ListrSimpleRenderer>;

interface Running {
  title: string;
  module: string;
  hosts: number;
  results: Array<{ host: string; status: HostStatus; ignored: boolean }>;
  details: string[];
  started: number;
  ended?: number;
  wrapper?: Wrapper;
  finish: () => void;
}

export class LiveReporter extends HumanReporter {
  private chain: Promise<void> = Promise.resolve();
  private current?: Running;

  protected render(e: RunEvent): void {
    const c = this.c;
    if (e.type === 'play_start' || e.type === 'recap') this.endTask();
    const shared = sharedEventText(c, e, this.slowest, this.verbosity);
    if (shared !== undefined) {
      if (shared) this.print(shared);
      return;
    }
    switch (e.type) {
      case 'task_start':
        this.endTask();
        this.startTask(`${e.handler ? 'HANDLER' : 'TASK'} [${e.task}]`, e.module, e.hosts.length);
        break;
      case 'host_result': {
        const cur = this.current;
        if (e.item === undefined) this.slowest.add(e.task, e.host, e.durationMs);
        if (!cur) break;
        if (e.item === undefined) cur.results.push({ host: e.host, status: e.status, ignored: e.ignored });
        const showDetail =
          e.status === 'failed' ||
          e.status === 'unreachable' ||
          this.verbosity >= 1 ||
          (this.diff && e.result.diff) ||
          cur.module === 'debug';
        const loopSummary = e.item === undefined && Array.isArray(e.result.results) && e.result.results.length > 0;
        if (showDetail && !(loopSummary && e.status !== 'failed')) {
          cur.details.push(hostResultText(c, e, cur.module, this.verbosity, this.diff));
        }
        if (cur.wrapper) cur.wrapper.output = this.progress(cur);
        break;
      }
      case 'command':
      case 'debug':
        if (this.current)
          this.current.details.push(c.dim(`<${e.host}> ${e.type === 'command' ? `EXEC ${e.command}` : e.message}`));
        else this.print(c.dim(`<${e.host}> ${e.type === 'command' ? `EXEC ${e.command}` : e.message}`));
        break;
    }
  }

  private startTask(title: string, module: string, hosts: number): void {
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const running: Running = { title, module, hosts, results: [], details: [], started: Date.now(), finish };
    this.current = running;
    const list = new Listr(
      [
        {
          title,
          task: async (_ctx, wrapper) => {
            running.wrapper = wrapper as Wrapper;
            await done;
            wrapper.title = this.summary(running);
          },
        },
      ],
      {
        renderer: 'default',
        exitOnError: false,
        // Ctrl-C is the run's to handle (src/cli/commands.ts): listr2's own handler exits with 127 at once
        registerSignalListeners: false,
        rendererOptions: { collapseSubtasks: false, showErrorMessage: false },
        fallbackRenderer: 'simple',
      },
    );
    this.chain = this.chain.then(async () => {
      await list.run();
      for (const d of running.details) this.out.write(d + '\n');
    });
  }

  private endTask(): void {
    if (this.current) this.current.ended = Date.now();
    this.current?.finish();
    this.current = undefined;
  }

  private progress(r: Running): string {
    return `${r.results.length}/${r.hosts} hosts  ${r.results.map((x) => statusColor(this.c, x.status, x.ignored)(x.host)).join(' ')}`;
  }

  private summary(r: Running): string {
    const by = new Map<string, string[]>();
    for (const x of r.results) {
      const key = x.ignored ? `${x.status} (ignored)` : x.status;
      by.set(key, [...(by.get(key) ?? []), x.host]);
    }
    const parts = [...by].map(([k, hosts]) => {
      const color = statusColor(this.c, k.split(' ')[0] as HostStatus, k.includes('ignored'));
      return color(`${k}: ${hosts.length > 4 ? `${hosts.length} hosts` : hosts.join(', ')}`);
    });
    return `${r.title}  ${parts.join('  ')}  ${this.c.dim(seconds((r.ended ?? Date.now()) - r.started))}`;
  }

  private print(s: string): void {
    this.chain = this.chain.then(() => {
      this.out.write(s + '\n');
    });
  }

  async close(): Promise<void> {
    this.endTask();
    await this.chain;
  }
}
