// The hosts a section of a play runs on: the play's tasks, a block, its rescue and always, a handler.
// A host leaves a section at its first failure there. Rescue, always and forced handlers run on hosts
// that failed before them, so a section does not ask "has the host failed?" but "has it failed since
// the section began?": it keeps each host's failure count from its start.
import type { HostState } from './host.js';

export class Section {
  private constructor(
    /** the hosts that entered the section, in batch order */
    readonly hosts: readonly HostState[],
    /** each host's failures when the section began; more than that and the host failed here */
    private readonly failuresAtStart: ReadonlyMap<HostState, number>,
    /** the section this one runs in: it answers for the hosts that are not in this one */
    private readonly parent?: Section,
  ) {}

  /** pre_tasks, tasks, post_tasks: the hosts of the batch that have not failed at all */
  static play(batch: readonly HostState[]): Section {
    return new Section(batch, new Map(batch.map((h) => [h, 0])));
  }

  /** a section within this one, on `hosts`, that runs whatever failed on them before it */
  private after(hosts: readonly HostState[]): Section {
    return new Section(hosts, new Map(hosts.map((h) => [h, h.failures])), this);
  }

  /** Does the next task of the section run on this host? */
  runs(h: HostState): boolean {
    const atStart = this.failuresAtStart.get(h);
    return atStart !== undefined && !h.unreachable && !h.endedPlay && h.failures <= atStart;
  }

  /** the hosts the next task runs on */
  running(): HostState[] {
    return this.hosts.filter((h) => this.runs(h));
  }

  /** a task failed on the host since the section began (and was not rescued) */
  failedHere(h: HostState): boolean {
    return h.failures > (this.failuresAtStart.get(h) ?? Infinity);
  }

  /**
   * Has the host failed, as this section sees it? Not for a failure that a rescue, always or handler
   * runs after, until it is over: as in Ansible, max_fail_percentage does not count those yet.
   */
  seesFailed(h: HostState): boolean {
    if (this.failuresAtStart.has(h)) return this.failedHere(h);
    return this.parent ? this.parent.seesFailed(h) : h.failed;
  }

  /** A block inside this section: the hosts still running here enter it. */
  block(): Section {
    return this.after(this.running());
  }

  /**
   * The rescue of this block: the hosts that failed in it, which are not failed any more (their
   * recap counts the failure as rescued) unless the rescue fails too. Only for a block that has one.
   */
  rescue(): Section {
    const failed = this.hosts.filter((h) => this.failedHere(h) && !h.unreachable);
    for (const h of failed) {
      h.failures = this.failuresAtStart.get(h)!;
      h.counters.failed--;
    }
    return this.after(failed);
  }

  /** The always of this block: every host that entered it, failed or not, unless unreachable or out of the play */
  always(): Section {
    return this.after(this.hosts.filter((h) => !h.unreachable && !h.endedPlay));
  }

  /**
   * A handler flushed from this section: the hosts that were notified of it and
   * still run here; forced, the failed ones too.
   */
  handler(notified: (h: HostState) => boolean, force: boolean): Section {
    return this.after(this.hosts.filter((h) => notified(h) && !h.unreachable && (force || this.runs(h))));
  }

  /** an include's group of hosts, which runs on as part of this section */
  only(group: readonly HostState[]): Section {
    return new Section(group, this.failuresAtStart, this);
  }
}
