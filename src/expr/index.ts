// Conditions: Ansible's bare Jinja2 expressions in `when`, `changed_when`,
// `failed_when`, `until` and `assert.that`, read by a real parser (never eval).
//
//   evaluateCondition("pkg is defined and pkg.state == 'present'", vars)   → boolean
//   evaluateCondition(['a > 1', true], vars)                              → all must hold
//   evaluateExpression("items | length", vars)                           → 3
//
// Supported: literals (numbers, 'strings', true/True, none/None/null, [lists],
// {'dicts': 1}), names, a.b, a['b'], a[0], a[-1], a[1:3], == != < <= > >=,
// in / not in, and / or / not, + - * / // % ** ~, `x if c else y`, tests
// (`is defined`, `is succeeded`, `is not none`, ...), filters (`| default(x)`,
// `| bool`, `| int`, `| length`, ...), `lookup('env', 'HOME')`, and string /
// mapping methods (`.startswith()`, `.get()`, ...). An undefined variable is an
// error naming it, except under `is defined` / `is undefined` / `default()`.
//
// A condition written as one `{{ expr }}` (Ansible warns about it) is accepted:
// the braces are stripped. If such a condition yields a string, the string is
// read as Ansible would after templating: true/yes/on/1 → true,
// false/no/off/0/'' → false, anything else is evaluated as an expression.
import { PhxError, type SourceLoc } from '../errors.js';
import { checkTemplateSyntax, renderTemplateFile as renderFile, renderValue } from '../template/index.js';
import { locInside } from '../template/location.js';
import { EvalFailure, Undefined, truthy } from '../template/values.js';
import { UnsafeText } from '../unsafe.js';
import type { Node } from './ast.js';
import { ExprSyntaxError, posAt } from './errors.js';
import { Evaluator } from './evaluate.js';
import { parseExpression } from './parser.js';

export interface ExprWhere {
  /** where the expression text starts (the YAML value's position) */
  loc?: SourceLoc;
  /** the task's name, for messages */
  task?: string;
  /** the playbook's directory: `lookup('file', …)` looks in its files/, then in it */
  baseDir?: string;
  /** a role's task: the role's directory, searched before baseDir by `lookup('file', …)` */
  roleDir?: string;
  /** shows a warning (Ansible's, for `{{ }}` inside a condition) */
  warn?: (message: string) => void;
}

export type ConditionInput = string | boolean | null | undefined | number | Array<string | boolean>;

const MAX_CACHE = 10_000;
const cache = new Map<string, Node>();

interface Prepared {
  /** the bare expression */
  text: string;
  /** offset of `text` in the source as written */
  offset: number;
  /** written as one `{{ ... }}` */
  braced: boolean;
}

function prepare(src: string): Prepared {
  const m = /^(\s*\{\{-?)([\s\S]*?)-?\}\}\s*$/.exec(src);
  if (m && !m[2].includes('{{') && !m[2].includes('}}')) return { text: m[2], offset: m[1].length, braced: true };
  return { text: src, offset: 0, braced: false };
}

/** `x == '{{ y }}'`: a template inside the expression (Ansible renders it first, with a warning). */
function embedsTemplate(src: string, p: Prepared): boolean {
  return !p.braced && /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/.test(src); // `'{{' in out` compares text
}

function parse(p: Prepared): Node {
  const hit = cache.get(p.text);
  if (hit) return hit;
  const ast = parseExpression(p.text);
  if (cache.size >= MAX_CACHE) cache.clear();
  cache.set(p.text, ast);
  return ast;
}

/** Validation-time check: syntax, and that every filter, test and function exists. */
export function checkExpressionSyntax(src: string, loc?: SourceLoc): void {
  const p = prepare(src);
  if (embedsTemplate(src, p)) return checkTemplateSyntax(src, loc);
  located(src, p, { loc }, 'invalid expression', () => parse(p));
}

/** The value of an expression (an undefined result is an error). */
export function evaluateExpression(src: string, vars: Record<string, unknown>, where: ExprWhere = {}): unknown {
  refuseUnsafe(src, 'expression', where);
  const p = prepare(src);
  if (embedsTemplate(src, p)) {
    warnTemplated(src, where);
    const v = renderValue(src, vars, where);
    if (typeof v !== 'string') return v;
    return evaluateExpression(v, vars, where);
  }
  return located(src, p, where, 'invalid expression', () => evaluateParsed(p, vars, where));
}

function evaluateParsed(p: Prepared, vars: Record<string, unknown>, where: ExprWhere): unknown {
  const ast = parse(p);
  const dirs = { baseDir: where.baseDir, ...(where.roleDir ? { roleDir: where.roleDir } : {}) };
  const renderTemplateFile = (path: string) => renderFile(path, vars, { ...dirs, loc: where.loc, task: where.task });
  const evaluator = new Evaluator(p.text, { vars, ...dirs, renderTemplateFile, resolving: [] });
  const v = evaluator.evaluate(ast);
  if (v instanceof Undefined) throw new EvalFailure(v.message(), posAt(p.text, ast.start), false, true);
  return v;
}

/** A `when`-style condition: a boolean is itself, a string is evaluated, a list means all must hold. */
export function evaluateCondition(cond: ConditionInput, vars: Record<string, unknown>, where: ExprWhere = {}): boolean {
  if (Array.isArray(cond)) return cond.every((c) => evaluateCondition(c, vars, where));
  if (typeof cond === 'boolean') return cond;
  if (cond === null || cond === undefined) return true; // `when:` with no value, as in Ansible
  if (typeof cond === 'number') return cond !== 0;
  refuseUnsafe(cond, 'condition', where);
  if (typeof cond !== 'string')
    throw new PhxError(`a condition must be a string, boolean or list, got ${typeof cond}`, where.loc);
  if (cond.trim() === '') return true; // Ansible treats an empty condition as true
  const p = prepare(cond);
  if (embedsTemplate(cond, p)) {
    // Ansible templates the whole condition first, then reads what it gave (Conditional._check_conditional)
    warnTemplated(cond, where);
    const v = renderValue(cond, vars, where);
    if (v instanceof UnsafeText) return unsafeTextAsCondition(v, cond, where);
    if (typeof v === 'string') return stringAsCondition(v, vars, where);
    return truthy(v);
  }
  return located(cond, p, where, 'invalid condition', () => {
    const v = evaluateParsed(p, vars, where);
    if (p.braced && typeof v === 'string') return stringAsCondition(v, vars, where);
    if (p.braced && v instanceof UnsafeText) return unsafeTextAsCondition(v, cond, where);
    return truthy(v);
  });
}

function warnTemplated(src: string, where: ExprWhere): void {
  where.warn?.(
    `conditional statements should not include jinja2 templating delimiters such as {{ }} or {% %}. Found: ${oneLine(src)}`,
  );
}

/** Text from a host, a lookup or `!unsafe` is data: never read as an expression (Ansible refuses it too). */
function refuseUnsafe(src: unknown, what: string, where: ExprWhere): void {
  if (src instanceof UnsafeText)
    throw new PhxError(
      `this ${what} comes from unsafe data (host output, a lookup or !unsafe) and is not evaluated: ${oneLine(src.text)}`,
      where.loc,
    );
}

/** `when: "{{ r.stdout }}"`: a yes/no word counts, any other host text is not evaluated. */
function unsafeTextAsCondition(v: UnsafeText, cond: string, where: ExprWhere): boolean {
  const s = v.text.trim().toLowerCase();
  if (['true', 'yes', 'on', '1', 'y'].includes(s)) return true;
  if (['false', 'no', 'off', '0', 'n', '', 'none', 'null'].includes(s)) return false;
  throw new PhxError(
    `condition "${oneLine(cond)}" gave unsafe text (host output, a lookup or !unsafe), which is not evaluated: ${oneLine(v.text)}`,
    where.loc,
  );
}

/** What `when: "{{ flag }}"` means in Ansible once `flag` was templated to a string. */
function stringAsCondition(v: string, vars: Record<string, unknown>, where: ExprWhere): boolean {
  const s = v.trim().toLowerCase();
  if (['true', 'yes', 'on', '1', 'y'].includes(s)) return true;
  if (['false', 'no', 'off', '0', 'n', '', 'none', 'null'].includes(s)) return false;
  return evaluateCondition(v, vars, where);
}

function located<T>(src: string, p: Prepared, where: ExprWhere, syntaxPrefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof EvalFailure)) throw e;
    let loc = where.loc;
    if (e.pos) {
      // position inside the bare text → inside the source as written (after a stripped `{{`)
      const offset = offsetOf(p.text, e.pos.line, e.pos.column) + p.offset;
      const at = posAt(src, offset);
      loc = locInside(where.loc, src, at.line, at.column);
    }
    const message =
      e instanceof ExprSyntaxError
        ? `${syntaxPrefix} "${oneLine(src)}": ${e.message}`
        : `${e.message} in condition "${oneLine(src)}"${where.task ? ` in task "${where.task}"` : ''}`;
    throw new PhxError(message, loc);
  }
}

function offsetOf(text: string, line: number, column: number): number {
  const lines = text.split('\n');
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  return offset + column;
}

function oneLine(s: string): string {
  const t = s.trim().replace(/\s+/g, ' ');
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
}
