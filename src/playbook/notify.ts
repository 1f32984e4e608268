// A notify written on a block or an include's `apply` belongs to every task
// inside: copies of those tasks carry the extra topics, each remembered with
// where it was written (for "no such handler" errors).
import type { SourceLoc } from '../errors.js';
import { locate } from '../yaml-source.js';
import type { LoadContext, NotifyRef } from './context.js';
import { valueLoc } from './problems.js';
import type { Task, TaskNode } from './types.js';

/** The location of each notify entry as written. */
export function notifyRefs(raw: Record<string, unknown>, topics: string[], loc: SourceLoc): NotifyRef[] {
  const written = raw.notify;
  const at = valueLoc(raw, 'notify', loc);
  return topics.map((topic, i) => ({ topic, loc: Array.isArray(written) ? (locate(written, i) ?? at) : at }));
}

/** Copies of the nodes with extra notify topics (nodes from task files are shared, so never mutated). */
export function withNotify(nodes: TaskNode[], refs: NotifyRef[], ctx: LoadContext): TaskNode[] {
  return nodes.map((node): TaskNode => {
    switch (node.kind) {
      case 'task': {
        const copy: Task = { ...node, notify: [...(node.notify ?? []), ...refs.map((r) => r.topic)] };
        ctx.notifyRefs.set(copy, [...(ctx.notifyRefs.get(node) ?? []), ...refs]);
        return copy;
      }
      case 'block':
        return {
          ...node,
          block: withNotify(node.block, refs, ctx),
          rescue: withNotify(node.rescue, refs, ctx),
          always: withNotify(node.always, refs, ctx),
        };
      case 'include_tasks':
        return node.preloaded ? { ...node, preloaded: withNotify(node.preloaded, refs, ctx) } : node;
      default:
        return node;
    }
  });
}
