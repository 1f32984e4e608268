// with_first_found: the loop's one item, the first_found lookup (template/first-found.ts) run on the
// loop's terms with the subdir TaskExecutor._get_loop_items gives by the task's action.
import { PhxError, UndefinedVariableError } from '../errors.js';
import type { Task } from '../playbook/types.js';
import { InvalidTerm, NOTHING_FOUND, UNDEFINED, firstFound, lookupSubdir } from '../template/first-found.js';
import type { SearchDirs } from '../template/search-path.js';
import { renderValue } from '../template/index.js';

export interface FirstFoundContext extends SearchDirs {
  /** the task's module (action): decides the subdir searched */
  action: string;
}

/** The loop's one item (the found controller path), none when `skip: true` and nothing is found. */
export function firstFoundItems(
  node: Pick<Task, 'loop' | 'loc'>,
  vars: Record<string, unknown>,
  title: string | undefined,
  search: FirstFoundContext,
): unknown[] {
  const where = { loc: node.loc, task: title, baseDir: search.baseDir, roleDir: search.roleDir };
  // listify_lookup_plugin_terms with fail_on_undefined=False: an undefined term is kept, then skipped
  const render = (v: unknown): unknown => {
    try {
      return renderValue(v, vars, where);
    } catch (e) {
      if (e instanceof UndefinedVariableError) return UNDEFINED;
      throw e;
    }
  };
  let items: unknown[] | undefined;
  try {
    items = firstFound(node.loop, render, search, lookupSubdir(search.action));
  } catch (e) {
    if (e instanceof InvalidTerm) throw new PhxError(e.message, node.loc);
    throw e;
  }
  if (items === undefined) throw new PhxError(NOTHING_FOUND, node.loc);
  return items;
}
