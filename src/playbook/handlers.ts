// Per play: handler names are unique, and every notify names a handler (by
// name or by a `listen` topic) that the play defines.
import { formatLoc } from '../errors.js';
import { looksTemplated } from './checks.js';
import type { LoadContext } from './context.js';
import { didYouMean } from './suggest.js';
import type { Play, Task, TaskNode } from './types.js';

/** Every task inside the nodes: through blocks and preloaded includes. */
export function* allTasks(nodes: TaskNode[]): Generator<Task> {
  for (const n of nodes) {
    if (n.kind === 'task') yield n;
    else if (n.kind === 'block') {
      yield* allTasks(n.block);
      yield* allTasks(n.rescue);
      yield* allTasks(n.always);
    } else if (n.kind === 'include_tasks' && n.preloaded) yield* allTasks(n.preloaded);
  }
}

export function checkHandlers(play: Play, ctx: LoadContext): void {
  const names = new Map<string, Task>();
  const topics = new Set<string>();
  for (const h of allTasks(play.handlers)) {
    if (h.name !== undefined) {
      // two roles may each have a handler of the same name: `role : name` tells them apart
      const own = h.role ? `${h.role.name} : ${h.name}` : h.name;
      const first = names.get(own);
      if (first) {
        const where = first.loc.file === h.loc.file ? `line ${first.loc.line}` : formatLoc(first.loc);
        ctx.problems.add(`duplicate handler name '${h.name}' (first defined at ${where})`, h.loc);
      } else {
        names.set(own, h);
        if (h.role && !names.has(h.name)) names.set(h.name, h);
      }
    }
    for (const t of h.listen ?? []) topics.add(t);
  }
  // a handler that includes a file chosen at run time may define anything
  const dynamic = play.handlers.some(function hasDynamic(n: TaskNode): boolean {
    if (n.kind === 'include_tasks') return !n.preloaded;
    if (n.kind === 'block') return [...n.block, ...n.rescue, ...n.always].some(hasDynamic);
    return false;
  });
  // so may a role an include_role loads at run time (a templated name): its handlers are unknown now
  const dynamicRole = [play.pre_tasks, play.tasks, play.post_tasks].some((section) =>
    section.some(function hasDynamicRole(n: TaskNode): boolean {
      if (n.kind === 'include_tasks')
        return (n.role !== undefined && !n.preloaded) || (n.preloaded ?? []).some(hasDynamicRole);
      if (n.kind === 'block') return [...n.block, ...n.rescue, ...n.always].some(hasDynamicRole);
      return false;
    }),
  );
  if (dynamic || dynamicRole) return;
  const known = [...names.keys(), ...topics];
  for (const section of [play.pre_tasks, play.tasks, play.post_tasks, play.handlers]) {
    for (const task of allTasks(section)) {
      for (const ref of ctx.notifyRefs.get(task) ?? []) {
        if (looksTemplated(ref.topic) || names.has(ref.topic) || topics.has(ref.topic)) continue;
        ctx.problems.add(
          `notify: no handler named '${ref.topic}' in this play${didYouMean(ref.topic, known)}`,
          ref.loc,
        );
      }
    }
  }
}
