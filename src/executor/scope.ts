// Keywords inherited from play → block → include → task. Inner wins, except
// `when` (all must hold), `tags` (union) and `vars` (merged, inner on top).
import type { Condition, InheritedKeywords, RoleInstance } from '../playbook/types.js';

export interface Scope extends InheritedKeywords {
  when?: Condition;
  tags?: string[];
  vars?: Record<string, unknown>;
  /** handlers an include's `apply:` notifies from every included task */
  notify?: string[];
  /** include_tasks loop variables and params: above set_facts, below extra vars */
  includeVars?: Record<string, unknown>;
  /** the role whose tasks run in this scope (its variables, role_path); an inner role replaces it */
  role?: RoleInstance;
  /** inside the body of a block with rescue or always: a failure there does not end the play at once */
  guarded?: boolean;
}

const toList = (c: Condition | undefined): Array<string | boolean> =>
  c === undefined ? [] : Array.isArray(c) ? c : [c];

export function inherit(
  outer: Scope,
  inner: InheritedKeywords & { includeVars?: Record<string, unknown>; notify?: string[]; role?: RoleInstance },
): Scope {
  const merged: Scope = { ...outer };
  for (const [k, v] of Object.entries(inner)) {
    if (v === undefined) continue;
    if (k === 'when' || k === 'tags' || k === 'vars' || k === 'includeVars' || k === 'notify') continue;
    (merged as Record<string, unknown>)[k] = v;
  }
  const when = [...toList(outer.when), ...toList(inner.when)];
  if (when.length) merged.when = when;
  if (inner.tags?.length) merged.tags = [...new Set([...(outer.tags ?? []), ...inner.tags])];
  if (inner.notify?.length) merged.notify = [...new Set([...(outer.notify ?? []), ...inner.notify])];
  if (inner.vars) merged.vars = { ...(outer.vars ?? {}), ...inner.vars };
  if (inner.includeVars) merged.includeVars = { ...(outer.includeVars ?? {}), ...inner.includeVars };
  return merged;
}
