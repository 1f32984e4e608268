// Templating for playbooks: Handlebars syntax, no HTML escaping, strict
// (an undefined variable is an error naming it, the task and file:line:col).
//
//   renderString('{{ name }}-{{ ports }}', vars)   → "web-[80,443]"  (objects as JSON)
//   renderValue('{{ ports }}', vars)              → [80, 443]        (one {{ expr }} keeps its type)
//   renderValue({ a: ['{{ n }}'] }, vars)         → { a: [3] }       (deep, keys too)
//
// Vars whose values are templates (`b: "{{ a }}-x"`) are rendered when used,
// like Ansible's lazy vars; a var that needs itself is reported as a loop.
// See helpers.ts for the helpers (`{{ default x "y" }}`, `{{ join list "," }}`, ...).
import { dirname, join } from 'node:path';
import { PhxError, UndefinedVariableError, formatLoc, type SourceLoc } from '../errors.js';
import { locateValue, readTextFile } from '../yaml-source.js';
import { locInside } from './location.js';
import type { JinjaOptions } from './jinja.js';
import { originalPos, parseTemplate } from './parse.js';
import { hasTemplateText, renderDeep, renderTemplateString, renderTemplateValue, type RenderEnv } from './render.js';
import { EvalFailure } from './values.js';

export interface TemplateWhere {
  /** where the template text starts (a YAML value, or line 1 col 1 of a template file) */
  loc?: SourceLoc;
  /** the task's name, for messages */
  task?: string;
  /** the playbook's directory: `lookup('file', …)` looks in its files/, then in it */
  baseDir?: string;
  /** a role's task: the role's directory, searched before baseDir by `lookup('file', …)` */
  roleDir?: string;
  /** Jinja whitespace options of a template file (the template module's trim_blocks/lstrip_blocks) */
  jinja?: JinjaOptions;
}

export { EvalFailure, toBool } from './values.js';
export { UnsafeText, markUnsafe, unwrapUnsafe } from '../unsafe.js';
export { HELPERS } from './helpers.js';

export function hasTemplate(text: unknown): boolean {
  return typeof text === 'string' && hasTemplateText(text);
}

/** Renders a template to text. */
export function renderString(text: string, vars: Record<string, unknown>, where: TemplateWhere = {}): string {
  if (!hasTemplateText(text)) return text;
  return located(text, where, where.loc, () => renderTemplateString(text, newEnv(vars, where), where.jinja));
}

/**
 * Renders every template string inside `value` (lists, mappings, their keys).
 * A string that is exactly one `{{ expr }}` keeps the type of what it yields.
 * Parts without templates are returned as they are (same object).
 */
export function renderValue(value: unknown, vars: Record<string, unknown>, where: TemplateWhere = {}): unknown {
  if (typeof value === 'string') {
    if (!hasTemplateText(value)) return value;
    return located(value, where, where.loc, () => renderTemplateValue(value, newEnv(vars, where)));
  }
  if (value === null || typeof value !== 'object') return value;
  const env = newEnv(vars, where);
  return renderDeep(value, env, (text, parent, key) => {
    // Values loaded from YAML remember their own position: point at the exact string.
    const loc = (parent !== undefined && key !== undefined ? locateValue(parent, key) : undefined) ?? where.loc;
    return located(text, where, loc, () => renderTemplateValue(text, env));
  });
}

/** Validation-time check of a template's syntax and helpers; throws a located PhxError. */
export function checkTemplateSyntax(text: string, loc?: SourceLoc): void {
  if (!hasTemplateText(text)) return;
  located(text, { loc }, loc, () => parseTemplate(text));
}

function newEnv(vars: Record<string, unknown>, where: TemplateWhere): RenderEnv {
  return {
    vars,
    baseDir: where.baseDir,
    ...(where.roleDir ? { roleDir: where.roleDir } : {}),
    renderTemplateFile: (path) => renderTemplateFile(path, vars, where),
    resolving: [],
    includeDirs: includeDirsFor(where.loc?.file, where.baseDir ?? process.cwd()),
  };
}

/** The same few lists for every render of a run, by base directory and file (never modified: an include makes its own). */
const includeDirsCache = new Map<string, Map<string, readonly string[]>>();

/** Where `{% include %}` looks: the template's own directory, then templates/ and the playbook's directory. */
function includeDirsFor(file: string | undefined, base: string): readonly string[] {
  let byFile = includeDirsCache.get(base);
  if (!byFile) {
    if (includeDirsCache.size >= 64) includeDirsCache.clear(); // bounded
    byFile = new Map();
    includeDirsCache.set(base, byFile);
  }
  let dirs = byFile.get(file ?? '');
  if (!dirs) {
    dirs = [...(file ? [dirname(file)] : []), join(base, 'templates'), base];
    if (byFile.size >= 256) byFile.clear();
    byFile.set(file ?? '', dirs);
  }
  return dirs;
}

/**
 * `lookup('template', path)`: the file rendered with the same variables, as the template module
 * renders (trim_blocks; its trailing newline kept, plugins/lookup/template.py). A problem inside
 * the file names the file's own line, in the message of the expression that looked it up.
 */
export function renderTemplateFile(path: string, vars: Record<string, unknown>, where: TemplateWhere): string {
  const inner: TemplateWhere = { ...where, loc: { file: path, line: 1, col: 1 }, jinja: { trimBlocks: true } };
  try {
    return renderString(readTextFile(path), vars, inner);
  } catch (e) {
    if (!(e instanceof PhxError)) throw e;
    throw new EvalFailure(`lookup template: ${e.loc ? `${formatLoc(e.loc)}: ` : ''}${e.message}`);
  }
}

function located<T>(text: string, where: TemplateWhere, loc: SourceLoc | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EvalFailure) {
      const pos = e.pos && (e.original ? e.pos : originalPos(text, e.pos, where.jinja));
      const at = pos ? locInside(loc, text, pos.line, pos.column) : loc;
      const message = where.task ? `${e.message} in task "${where.task}"` : e.message;
      throw e.undefinedVar ? new UndefinedVariableError(message, at) : new PhxError(message, at);
    }
    throw e;
  }
}
