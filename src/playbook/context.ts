// State of one playbook load: the module registry, the problems found so far,
// and per-file caches so a file imported from several places is read, parsed
// and validated once.
import { existsSync } from 'node:fs';
import type { SourceLoc } from '../errors.js';
import type { ModuleRegistry } from '../registry.js';
import { parseYaml, readTextFile } from '../yaml-source.js';
import { Problems, rememberSource } from './problems.js';
import type { Task, TaskNode } from './types.js';

const FAILED = Symbol('failed');

export interface NotifyRef {
  topic: string;
  loc: SourceLoc;
}

/** Where a task list lives: its file, the directory imports resolve from, and whether it is a handlers list. */
export interface TaskListSource {
  file: string;
  baseDir: string;
  handlers: boolean;
}

export class LoadContext {
  readonly problems = new Problems();
  private readonly yaml = new Map<string, unknown>();
  /** validated task files by path (+ whether they were loaded as handlers) */
  readonly taskFiles = new Map<string, TaskNode[]>();
  /** task files being loaded right now, outermost first: an import cycle shows up here */
  readonly taskFileStack: string[] = [];
  /** where each task's notify entries were written, for "no such handler" errors */
  readonly notifyRefs = new WeakMap<TaskNode, NotifyRef[]>();
  private moduleNameList?: string[];
  /** directory of the playbook being read: roles are searched from it */
  playbookDir: string;
  /** roles being loaded right now (their paths): a dependency cycle shows up here */
  readonly roleStack: string[] = [];
  /** roles the current play's `roles:` already runs (path + params): each runs once */
  rolesRun = new Set<string>();
  /** handlers of the roles the current play uses, in the order the roles were loaded */
  roleHandlers: Task[] = [];
  readonly roleHandlerKeys = new Set<string>();
  /** Ansible's load-time deprecation warnings, each once (its Display keeps one of each text) */
  readonly deprecations = new Set<string>();
  /**
   * > 0 while reading what a dynamic include (include_tasks, include_role) brings in: an old
   * `include:` there is dynamic too (helpers.py: `t.all_parents_static()`)
   */
  dynamicDepth = 0;

  constructor(
    readonly registry: ModuleRegistry,
    playbookDir = process.cwd(),
  ) {
    this.playbookDir = playbookDir;
  }

  /** A new play starts: the roles it runs and their handlers are its own. */
  startPlay(playbookDir: string): void {
    this.playbookDir = playbookDir;
    this.rolesRun = new Set();
    this.roleHandlers = [];
    this.roleHandlerKeys.clear();
    // task files are read again: an import_role inside one adds its handlers to this play too
    // (their problems are not reported twice: Problems keeps one of each)
    this.taskFiles.clear();
  }

  /** Every name a module answers to (canonical and aliases). */
  moduleNames(): string[] {
    this.moduleNameList ??= this.registry.all().flatMap((d) => [d.name, ...(d.aliases ?? [])]);
    return this.moduleNameList;
  }

  /** Parsed YAML of a file, or undefined after reporting why not (at `ref`, the line that named the file). */
  readYaml(path: string, ref: SourceLoc | undefined, what: string): unknown {
    const cached = this.yaml.get(path);
    if (cached !== undefined) return cached === FAILED ? undefined : cached;
    let value: unknown = FAILED;
    if (!existsSync(path)) {
      this.problems.add(`${what} not found: ${path}`, ref);
    } else {
      try {
        const text = readTextFile(path);
        rememberSource(path, text);
        value = parseYaml(text, path) ?? null;
      } catch (e) {
        this.problems.addThrown(e, ref);
      }
    }
    this.yaml.set(path, value);
    return value === FAILED ? undefined : value;
  }
}
