// One play mapping → Play: its keywords, vars_files (static ones loaded now),
// and its task sections.
import { dirname, join } from 'node:path';
import type { SourceLoc } from '../errors.js';
import { locate } from '../yaml-source.js';
import { resolveSubsets } from '../facts/collect.js';
import { checkTemplatesDeep, looksTemplated } from './checks.js';
import type { LoadContext, TaskListSource } from './context.js';
import { checkVarNames, inherited, readKeywords, reportUnknownKeys } from './keyword-values.js';
import { PLAY_KEYS, SPECIAL_ACTIONS } from './keywords.js';
import { describe, isMapping, valueLoc } from './problems.js';
import { readPlayRoles } from './roles.js';
import { readTaskList } from './tasks.js';
import type { Play } from './types.js';

/** gather_facts when a play does not say: true, as Ansible's (gathering = implicit), in every play. */
export const GATHER_FACTS_DEFAULT = true;

export function readPlay(
  raw: Record<string, unknown>,
  loc: SourceLoc,
  file: string,
  ctx: LoadContext,
): Play | undefined {
  const looksLikeTask = Object.keys(raw).some((k) => ctx.registry.get(k) || SPECIAL_ACTIONS[k] || k === 'block');
  reportUnknownKeys(raw, PLAY_KEYS, 'play', ctx, loc);
  const values = readKeywords(raw, PLAY_KEYS, ctx, loc);
  const baseDir = dirname(file);

  let hosts: string | undefined;
  if (!('hosts' in raw)) {
    const hint = looksLikeTask
      ? " (this looks like a task: a playbook is a list of plays, tasks go under a play's 'tasks:')"
      : '';
    ctx.problems.add(`play has no 'hosts'${hint}`, loc);
  } else if (values.hosts !== undefined) {
    const h = values.hosts as string | (string | number)[]; // readKeywords checked it against KEYWORDS.hosts
    hosts = (Array.isArray(h) ? h.map((x) => String(x).trim()).join(',') : h).trim();
    if (hosts === '') ctx.problems.add(`'hosts' is empty`, valueLoc(raw, 'hosts', loc));
  }

  ctx.startPlay(baseDir);
  const source: TaskListSource = { file, baseDir, handlers: false };
  const section = (k: 'pre_tasks' | 'tasks' | 'post_tasks' | 'handlers') =>
    readTaskList(raw[k], valueLoc(raw, k, loc), k, ctx, k === 'handlers' ? { ...source, handlers: true } : source);

  const play: Play = {
    ...inherited(values),
    name: (values.name as string | undefined) ?? hosts ?? '',
    hosts: hosts ?? '',
    ...readVarsFiles(raw, loc, baseDir, ctx),
    pre_tasks: section('pre_tasks'),
    // roles run after pre_tasks and their handlers, in the same section as tasks (as in Ansible)
    tasks: [...readPlayRoles(raw.roles, valueLoc(raw, 'roles', loc), ctx), ...section('tasks')],
    post_tasks: section('post_tasks'),
    handlers: section('handlers'),
    // facts unless the play says gather_facts: false (see GATHER_FACTS_DEFAULT)
    gather_facts: (values.gather_facts as boolean | undefined) ?? GATHER_FACTS_DEFAULT,
    baseDir,
    loc,
  };
  const subset = values.gather_subset as string | string[] | undefined;
  if (subset !== undefined) {
    play.gather_subset = (typeof subset === 'string' ? subset.split(',') : subset).map((s) => s.trim());
    checkSubsets(play.gather_subset, valueLoc(raw, 'gather_subset', loc), ctx);
  }
  // the roles' handlers come after the play's own, as Ansible lists them
  play.handlers.push(...ctx.roleHandlers);
  if ('serial' in raw) play.serial = readSerial(raw.serial, valueLoc(raw, 'serial', loc), ctx);
  for (const k of [
    'max_fail_percentage',
    'force_handlers',
    'remote_user',
    'connection',
    'gather_timeout',
    'fact_path',
  ] as const) {
    if (values[k] !== undefined) (play as unknown as Record<string, unknown>)[k] = values[k];
  }
  return hosts === undefined ? undefined : play;
}

/** An unknown gather_subset name is reported with the play's problems, not when the play runs. */
function checkSubsets(subsets: string[], at: SourceLoc, ctx: LoadContext): void {
  if (subsets.some((s) => looksTemplated(s))) return;
  try {
    resolveSubsets(subsets);
  } catch (e) {
    ctx.problems.add((e as Error).message, at);
  }
}

function readVarsFiles(
  raw: Record<string, unknown>,
  loc: SourceLoc,
  baseDir: string,
  ctx: LoadContext,
): Pick<Play, 'vars_files' | 'vars_files_data'> {
  const out: Pick<Play, 'vars_files' | 'vars_files_data'> = { vars_files: [], vars_files_data: [] };
  const value = raw.vars_files;
  if (value === undefined || value === null) return out;
  const at = valueLoc(raw, 'vars_files', loc);
  const entries = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(entries)) return out; // wrong type reported by readKeywords
  entries.forEach((entry, i) => {
    const entryLoc = typeof value === 'string' ? at : (locate(entries, i) ?? at);
    if (typeof entry !== 'string') return; // reported by readKeywords
    if (looksTemplated(entry)) {
      out.vars_files_data.push({ template: entry });
      return;
    }
    const path = join(baseDir, entry);
    out.vars_files.push(path);
    const vars = ctx.readYaml(path, entryLoc, 'vars file');
    if (vars === undefined) return;
    if (vars !== null && !isMapping(vars)) {
      ctx.problems.add(`a vars file must be a mapping of variables, got ${describe(vars)}`, {
        file: path,
        line: 1,
        col: 1,
      });
      return;
    }
    const mapping = vars ?? {};
    checkVarNames(mapping, { file: path, line: 1, col: 1 }, ctx);
    checkTemplatesDeep(mapping, { file: path, line: 1, col: 1 }, ctx.problems);
    out.vars_files_data.push({ path, vars: mapping });
  });
  return out;
}

/** `serial: 2`, `"30%"`, `[1, 5, "50%"]` → a list; each a positive count or a percentage up to 100. */
function readSerial(value: unknown, at: SourceLoc, ctx: LoadContext): Array<number | string> | undefined {
  const items = Array.isArray(value) ? value : [value];
  if (Array.isArray(value) && value.length === 0) {
    ctx.problems.add(`'serial' expects a number, a percentage or a list of them, got an empty list`, at);
    return undefined;
  }
  const out: Array<number | string> = [];
  items.forEach((item, i) => {
    const loc = Array.isArray(value) ? (locate(value, i) ?? at) : at;
    if (typeof item === 'number') {
      if (Number.isInteger(item) && item >= 1) out.push(item);
      else ctx.problems.add(`'serial' must be a whole number of hosts >= 1, got ${item}`, loc);
    } else if (typeof item === 'string' && looksTemplated(item)) {
      out.push(item);
    } else if (typeof item === 'string' && /^\s*\d+(\.\d+)?\s*%\s*$/.test(item)) {
      const pct = parseFloat(item);
      if (pct > 0 && pct <= 100) out.push(item.replace(/\s/g, ''));
      else ctx.problems.add(`'serial' percentage must be more than 0% and at most 100%, got ${describe(item)}`, loc);
    } else if (typeof item === 'string' && /^\s*\d+\s*$/.test(item) && Number(item) >= 1) {
      out.push(Number(item));
    } else {
      ctx.problems.add(`'serial' expects a number, a percentage or a list of them, got ${describe(item)}`, loc);
    }
  });
  return out;
}
