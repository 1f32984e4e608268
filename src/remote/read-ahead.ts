// Read-ahead: the probes of the tasks that follow, asked in the round trip of the task that probes now.
//
// A converged run spends most of a host's round trips asking what the next tasks will find (a
// stat, a checksum). When a task probes, the executor lists what the following tasks of its window
// will ask (src/executor/read-ahead-window.ts); probe() asks all of it in one script, and each of
// those tasks later takes its answer instead of asking again.
//
// An answer is only as good as the host state it read. Every command that may change a host (all
// but probes, on any host: /etc/pve and NFS are shared by several) moves the change count when it
// is sent and again when it ends. An answer read at another count is stale: its task probes for
// itself. A host reads ahead only while things are calm: when nothing changed since its previous
// probe ended (the task before changed nothing, here or elsewhere). A first run, which changes
// most things, then reads nothing ahead in vain; a converged one reads ahead from its second probe
// on. A window never crosses a task that waits (until, pause, anything not known to be instant),
// so an answer is at most a few tasks old and nothing but phx-play's own commands can have run in
// between on purpose.
import type { ModuleContext } from '../module.js';
import type { PathQuery, ProbeRequest, ProbeResult } from './probe.js';

let changeCount = 0;

/** A command that may change a host is sent, or has ended: every answer read before is stale. */
export function hostMayChange(): void {
  changeCount++;
}

interface EarlyAnswer {
  readAt: number;
  result: ProbeResult;
  /** how many later tasks ask exactly this */
  uses: number;
}

interface HostReadAhead {
  answers: Map<string, EarlyAnswer>;
  /** the change count when this host's last probe ended */
  lastProbeEnd?: number;
  /** answers that went stale before their task took them */
  unused: number;
  /** too many went unused: this host reads ahead no more in this run */
  off: boolean;
}

/** A host whose answers go stale this often (changes between calm tasks) stops reading ahead. */
const MAX_UNUSED = 64;

const hosts = new WeakMap<object, HostReadAhead>();

function hostOf(conn: object): HostReadAhead {
  let h = hosts.get(conn);
  if (!h) hosts.set(conn, (h = { answers: new Map(), unused: 0, off: false }));
  return h;
}

/** The same request by the same user on the same connection is the same question. */
const keyOf = (as: string, req: ProbeRequest) => `${as}\0${JSON.stringify(req)}`;

/** Whether this connection reads ahead now: nothing changed since its last probe ended, and it has not given up. */
export function readsAhead(conn: object): boolean {
  const h = hosts.get(conn);
  return h !== undefined && !h.off && h.lastProbeEnd === changeCount;
}

/** A probe of this connection has its answer (asked, or taken): things are calm if nothing changes before the next. */
export function probeEnded(conn: object): void {
  hostOf(conn).lastProbeEnd = changeCount;
}

/** Forgets the stale answers, counting them; too many, and the host reads ahead no more. */
function dropStale(h: HostReadAhead): void {
  for (const [key, a] of h.answers) {
    if (a.readAt === changeCount) continue;
    h.unused += a.uses;
    h.answers.delete(key);
  }
  if (h.unused > MAX_UNUSED) h.off = true;
}

/** Whether a good answer to this request is already kept (a task before it in the window was not read ahead). */
export function hasEarlyAnswer(conn: object, as: string, req: ProbeRequest): boolean {
  return hosts.get(conn)?.answers.get(keyOf(as, req))?.readAt === changeCount;
}

/** The answer read early for exactly this request, once; undefined when there is none or it is stale. */
export function takeEarlyAnswer(conn: object, as: string, req: ProbeRequest): ProbeResult | undefined {
  const h = hosts.get(conn);
  if (!h || h.answers.size === 0) return undefined;
  const key = keyOf(as, req);
  const early = h.answers.get(key);
  if (!early) return undefined;
  if (--early.uses === 0) h.answers.delete(key);
  if (early.readAt === changeCount) return copyOf(early.result);
  h.unused++;
  dropStale(h); // read at the same count or before: all stale
  return undefined;
}

/** The change count now: an answer is kept with the count at which its script was sent. */
export function changeCountNow(): number {
  return changeCount;
}

/** Keeps answers read early (at `readAt`) for the tasks that will ask these requests. */
export function keepEarlyAnswers(
  conn: object,
  as: string,
  readAt: number,
  answers: readonly { req: ProbeRequest; result: ProbeResult }[],
): void {
  const h = hostOf(conn);
  dropStale(h);
  if (h.off) return;
  for (const a of answers) {
    const key = keyOf(as, a.req);
    const same = h.answers.get(key);
    if (same && same.readAt === readAt) same.uses++;
    else h.answers.set(key, { readAt, result: a.result, uses: 1 });
  }
}

/** Each task gets answers of its own: callers may change what they are given. */
function copyOf(r: ProbeResult): ProbeResult {
  return {
    ...r,
    paths: r.paths.map((p) => ({ ...p })),
    users: new Map(r.users),
    groups: new Map(r.groups),
    globs: [...r.globs],
    ...(r.identity ? { identity: { ...r.identity } } : {}),
  };
}

/**
 * Several requests as one: each path and glob once (two tasks often look at the same file), each
 * account once, the identity when any asks it. `split` gives each request its own answer back, as
 * a probe of that request alone would have. A listing (tree) is not merged: callers leave those out.
 */
export function mergeRequests(reqs: readonly ProbeRequest[]): {
  merged: ProbeRequest;
  split: (r: ProbeResult) => ProbeResult[];
} {
  const paths = new Indexed<PathQuery>();
  const globs = new Indexed<string>();
  const pathAt = reqs.map((r) => (r.paths ?? []).map((q) => paths.add(q)));
  const globAt = reqs.map((r) => (r.globs ?? []).map((g) => globs.add(g)));
  const uniq = (lists: (string[] | undefined)[]) => [...new Set(lists.flatMap((l) => l ?? []))];
  const merged: ProbeRequest = {
    paths: paths.items,
    identity: reqs.some((r) => r.identity),
    users: uniq(reqs.map((r) => r.users)),
    groups: uniq(reqs.map((r) => r.groups)),
    globs: globs.items,
  };
  const split = (all: ProbeResult): ProbeResult[] =>
    reqs.map((r, k) => {
      const pick = (names: string[] | undefined, from: ProbeResult['users']) =>
        new Map((names ?? []).filter((n) => from.has(n)).map((n) => [n, from.get(n)]));
      return copyOf({
        paths: pathAt[k].map((i) => all.paths[i]),
        globs: globAt[k].map((i) => all.globs[i]),
        users: pick(r.users, all.users),
        groups: pick(r.groups, all.groups),
        ...(r.identity && all.identity ? { identity: all.identity } : {}),
      });
    });
  return { merged, split };
}

/** Items kept once each, by value; add() gives an item's index. */
class Indexed<T> {
  readonly items: T[] = [];
  private readonly at = new Map<string, number>();
  add(item: T): number {
    const key = JSON.stringify(item);
    let i = this.at.get(key);
    if (i === undefined) this.at.set(key, (i = this.items.push(item) - 1));
    return i;
  }
}

/** What a module's facts() asked first while its task was only being looked ahead at. */
export class ProbeRecorded extends Error {
  constructor(readonly req: ProbeRequest) {
    super('probe recorded for read-ahead');
  }
}

/** A module did something else than probe first: its task is not read ahead. */
export class NotReadAhead extends Error {
  constructor() {
    super('not a read-ahead probe');
  }
}

const recording = new WeakSet<object>();

/**
 * A context for a later task's facts(), run now only to learn its probe request: probe() throws
 * ProbeRecorded with it; any other command throws NotReadAhead before anything reaches the host,
 * and what it logs is dropped.
 */
export function recordingContext(ctx: ModuleContext): ModuleContext {
  const refuse = () => Promise.reject(new NotReadAhead());
  // nothing of the later task shows now either (-vvv lines come when it runs)
  const rec: ModuleContext = { ...ctx, run: refuse, runShell: refuse, log: () => {}, upcomingProbes: undefined };
  recording.add(rec);
  return rec;
}

/** In a recording context, probe() stops here with the request. */
export function recordIfLookingAhead(ctx: ModuleContext, req: ProbeRequest): void {
  if (recording.has(ctx)) throw new ProbeRecorded(req);
}
