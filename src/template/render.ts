// The renderer: walks the Handlebars AST itself instead of compiling it, so
// that it can be strict (an undefined variable is an error naming it) while
// `default`/`defined` still see undefined values, keep a single `{{ expr }}`'s
// type, resolve vars whose values are templates lazily (with loop detection),
// and never touch JS internals (no __proto__/constructor, no generated code).
import { isSecretContainer, noteSecretRead } from '../vault/secrecy.js';
import type { Node } from '../expr/ast.js';
import { Evaluator } from '../expr/evaluate.js';
import { HELPERS, type HelperEnv } from './helpers.js';
import type { JinjaExpr, JinjaOptions, JinjaPart } from './jinja.js';
import { isNamespace } from './namespace.js';
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  originalPos,
  parseTemplate,
  startOf,
  type BlockNode,
  type ExprNode,
  type MustacheNode,
  type PathNode,
  type Pos,
  type ProgramNode,
} from './parse.js';
import {
  EvalFailure,
  checkKeyAllowed,
  Undefined,
  getMember,
  isMapping,
  mappingKeys,
  MISSING,
  table,
  toTemplateString,
  truthy,
  typeName,
} from './values.js';
import { UnsafeText, containsUnsafe, isUnsafeContainer, isUnsafeText, taintChild, withPlainInputs } from '../unsafe.js';

export interface RenderEnv extends HelperEnv {
  vars: Record<string, unknown>;
  /** var paths whose template values are being rendered right now: a repeat is a loop */
  resolving: Array<string | symbol>;
  /** where `{% include %}` looks for templates, in order (the including file's directory, templates/, ...) */
  includeDirs?: readonly string[];
  /** `{% include %}` files being rendered right now */
  including?: string[];
  /** how an expression inside a template finds a name (block params, loop vars, the vars) */
  scope?: (name: string) => ScopedRef | typeof MISSING;
}

/** A name found by `scope`: `raw` when it is data whose template strings are still to be rendered. */
export interface ScopedRef {
  value: unknown;
  raw: boolean;
  /** the var path from the vars root, for loop detection of lazy vars */
  key?: string;
}

const MAX_NESTING = 100;
const MAX_DEPTH = 64;

/** Whether a string needs the template engine: `{{ }}`, `{% %}` or `{# #}` in it. */
export function hasTemplateText(text: string): boolean {
  return (
    text.includes('{{') ||
    (text.includes('{%') && text.includes('%}')) ||
    (text.includes('{#') && text.includes('#}')) ||
    text.startsWith('#jinja2:')
  );
}

// ── Lazy vars ────────────────────────────────────────────────────────────────
/** A var's value that is itself a template is rendered when used, against the same vars. */
export function resolveLazy(value: unknown, key: string | undefined, env: RenderEnv): unknown {
  if (typeof value === 'string') {
    if (!hasTemplateText(value)) return value;
    return withResolving(key, env, () => renderTemplateValue(value, env));
  }
  if (Array.isArray(value) || isMapping(value)) {
    if (!containsTemplate(value)) return value;
    return withResolving(key, env, () => renderDeep(value, env));
  }
  return value;
}

function withResolving<T>(key: string | undefined, env: RenderEnv, fn: () => T): T {
  if (key !== undefined && env.resolving.includes(key)) {
    throw new EvalFailure(`recursive loop detected in template for var ${key.split('.')[0] || '@root'}`);
  }
  if (env.resolving.length > MAX_NESTING)
    throw new EvalFailure('templates nested too deeply (a var referring to itself?)');
  env.resolving.push(key ?? Symbol('anonymous')); // values without a var path only count for the depth limit
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof EvalFailure) || key === undefined || e.message.startsWith('recursive loop')) throw stripPos(e);
    throw new EvalFailure(`${e.message} (in the value of '${key}')`, undefined, false, e.undefinedVar);
  } finally {
    env.resolving.pop();
  }
}

function stripPos(e: unknown): unknown {
  return e instanceof EvalFailure && e.pos ? new EvalFailure(e.message, undefined, false, e.undefinedVar) : e;
}

export function containsTemplate(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return hasTemplateText(value);
  if (depth > MAX_DEPTH || isUnsafeContainer(value)) return false;
  if (Array.isArray(value)) return value.some((v) => containsTemplate(v, depth + 1));
  if (isMapping(value)) {
    return mappingKeys(value).some((k) => hasTemplateText(k) || containsTemplate(getMember(value, k), depth + 1));
  }
  return false;
}

/** Renders every template string inside a value; unchanged parts keep their identity. */
export function renderDeep(
  value: unknown,
  env: RenderEnv,
  onString: (text: string, parent: object | undefined, key: string | number | undefined) => unknown = (t) =>
    renderTemplateValue(t, env),
  parent?: object,
  key?: string | number,
  depth = 0,
): unknown {
  if (typeof value === 'string') return hasTemplateText(value) ? onString(value, parent, key) : value;
  if (isUnsafeContainer(value) || depth > MAX_DEPTH) return value; // deeper than any playbook data: a structure containing itself
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((item, i) => {
      const r = renderDeep(item, env, onString, value, i, depth + 1);
      if (r !== item && !out) out = value.slice(0, i);
      out?.push(r);
    });
    return out ?? value;
  }
  if (isMapping(value)) {
    const keys = mappingKeys(value);
    let changed = false;
    let unsafeKey = false;
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const item = getMember(value, k);
      const renderedKey = hasTemplateText(k) ? onString(k, value, k) : k;
      unsafeKey ||= containsUnsafe(renderedKey);
      const newKey = toTemplateString(renderedKey);
      const r = renderDeep(item, env, onString, value, k, depth + 1);
      if (newKey !== k || r !== item) changed = true;
      // assigned (the fast way) but for a `__proto__` key, which must stay a key, not set the prototype
      if (newKey === '__proto__')
        Object.defineProperty(out, newKey, { value: r, enumerable: true, writable: true, configurable: true });
      else out[newKey] = r;
    }
    // a key cannot be UnsafeText: a mapping with a key from unsafe text is unsafe as a whole (never rendered again)
    if (unsafeKey) taintChild(out);
    return changed ? out : value;
  }
  return value;
}

// ── Rendering ────────────────────────────────────────────────────────────────
interface Frame {
  context: unknown;
  /** `@index`, `@key`, `@first`, `@last` of the enclosing #each */
  data: Record<string, unknown>;
  /** `as |item index|` names */
  params: Record<string, unknown>;
  parent?: Frame;
  /** the context and params come from data that must not be templated */
  unsafe?: boolean;
  /** `{% for %}` targets, `loop` and `{% set %}` names: values that are final (never rendered again) */
  locals?: Record<string, unknown>;
}

function rootFrame(env: RenderEnv): Frame {
  return { context: env.vars, data: {}, params: {} };
}

/** Rendered text, and whether any of it came from unsafe data. */
class Output {
  readonly parts: string[] = [];
  unsafe = false;

  push(text: string): void {
    this.parts.push(text);
  }

  /** Ansible keeps the newlines a template ends with, even when a block tag's trim took one. */
  keepTrailingNewlines(count: number | undefined): void {
    if (!count) return;
    const have = /\n*$/.exec(this.parts.join(''))![0].length;
    if (have < count) this.parts.push('\n'.repeat(count - have));
  }

  /** Interpolates a value: text from unsafe data makes the whole output unsafe. */
  pushValue(value: unknown): void {
    if (!this.unsafe && containsUnsafe(value)) this.unsafe = true;
    this.parts.push(toTemplateString(value));
  }

  value(): string | UnsafeText {
    const text = this.parts.join('');
    return this.unsafe ? new UnsafeText(text) : text;
  }
}

/** Renders to text: objects and lists interpolated as JSON, booleans as true/false, none as ''. */
export function renderTemplateString(text: string, env: RenderEnv, options?: JinjaOptions): string {
  if (!hasTemplateText(text)) return text;
  const ast = parseTemplate(text, options);
  const out = new Output();
  renderProgram(ast, rootFrame(env), env, out);
  out.keepTrailingNewlines(ast.trailingNewlines);
  return out.parts.join('');
}

/** A template that is exactly one `{{ expr }}` (nothing around it, not even whitespace) keeps its value's type. */
export function renderTemplateValue(text: string, env: RenderEnv): unknown {
  if (!hasTemplateText(text)) return text;
  const ast = parseTemplate(text);
  const single = singleMustache(ast);
  if (single) {
    const v = mustacheValue(single, rootFrame(env), env);
    return v === undefined ? null : v;
  }
  const out = new Output();
  renderProgram(ast, rootFrame(env), env, out);
  out.keepTrailingNewlines(ast.trailingNewlines);
  return out.value();
}

function singleMustache(ast: ProgramNode): MustacheNode | undefined {
  let found: MustacheNode | undefined;
  for (const st of ast.body) {
    if (st.type === 'ContentStatement') {
      if (st.value !== '') return undefined; // Ansible: `"{{ x }}\n"` is text
    } else if (st.type === 'MustacheStatement' && !found && (!st.jinja || st.jinja.k === 'expr')) found = st;
    else if (st.type !== 'CommentStatement') return undefined;
  }
  return found;
}

function renderProgram(program: ProgramNode | undefined, frame: Frame, env: RenderEnv, out: Output): void {
  for (const st of program?.body ?? []) {
    switch (st.type) {
      case 'ContentStatement':
        out.push(st.value);
        break;
      case 'MustacheStatement':
        if (st.jinja?.k === 'set') setJinja(st.jinja, frame, env);
        else if (st.jinja?.k === 'include') renderInclude(st.jinja, frame, env, out);
        else out.pushValue(mustacheValue(st, frame, env));
        break;
      case 'BlockStatement':
        renderBlock(st, frame, env, out);
        break;
      default:
        break; // comments; partials/decorators were rejected when parsing
    }
  }
}

function mustacheValue(st: MustacheNode, frame: Frame, env: RenderEnv): unknown {
  if (st.jinja?.k === 'expr') return jinjaValue(st.jinja.expr, frame, env);
  const hasArgs = st.params.length > 0 || (st.hash?.pairs.length ?? 0) > 0;
  if (st.path.type === 'PathExpression' && hasArgs)
    return defined(callHelper(st.path, st.params, st.hash, frame, env), st.path);
  return defined(evalExpr(st.path, frame, env), st.path);
}

function defined(v: unknown, node: ExprNode, hint = ''): unknown {
  if (v instanceof Undefined) throw new EvalFailure(v.message() + hint, startOf(node), false, true);
  return v;
}

function renderBlock(st: BlockNode, frame: Frame, env: RenderEnv, out: Output): void {
  if (st.jinja) return renderJinjaBlock(st, st.jinja, frame, env, out);
  const name = st.path.original;
  if (name === 'raw' && st.params.length === 0) return renderProgram(st.program, frame, env, out);
  const param = st.params[0];
  const hint =
    name === 'if' || name === 'unless'
      ? `; to test whether it is set use {{#${name} (defined ${param.type === 'PathExpression' ? param.original : 'x'})}}`
      : '';
  const value = defined(evalExpr(param, frame, env), param, hint);
  const blockParams = st.program?.blockParams ?? [];
  switch (name) {
    case 'if':
    case 'unless': {
      const includeZero = st.hash?.pairs.some((p) => p.key === 'includeZero' && evalExpr(p.value, frame, env) === true);
      const cond = includeZero && value === 0 ? true : truthyAt(value, param);
      renderProgram(cond === (name === 'if') ? st.program : st.inverse, frame, env, out);
      return;
    }
    case 'with':
      if (!truthyAt(value, param)) return renderProgram(st.inverse, frame, env, out);
      renderProgram(st.program, childFrame(frame, value, {}, blockParams, [value], isUnsafeContainer(value)), env, out);
      return;
    case 'each': {
      if (value === null) return renderProgram(st.inverse, frame, env, out);
      let entries: Array<[string | number, unknown]>;
      if (Array.isArray(value)) entries = value.map((v, i) => [i, v]);
      else if (isMapping(value)) entries = mappingKeys(value).map((k) => [k, getMember(value, k)]);
      else throw new EvalFailure(`#each expects a list or mapping, got ${typeName(value)}`, startOf(param));
      if (entries.length === 0) return renderProgram(st.inverse, frame, env, out);
      const unsafe = isUnsafeContainer(value);
      entries.forEach(([plainKey, item], i) => {
        // keys of unsafe data (chosen by a host) are unsafe text too
        const key = unsafe && typeof plainKey === 'string' ? new UnsafeText(plainKey) : plainKey;
        const data = { index: i, key, first: i === 0, last: i === entries.length - 1 };
        renderProgram(st.program, childFrame(frame, item, data, blockParams, [item, key], unsafe), env, out);
      });
      return;
    }
    default:
      throw new EvalFailure(`unknown block helper '#${name}'`, startOf(st));
  }
}

/** truthy(), with an undefined value's error located at the block helper's parameter. */
function truthyAt(value: unknown, node: ExprNode): boolean {
  try {
    return truthy(value);
  } catch (e) {
    throw e instanceof EvalFailure && !e.pos ? new EvalFailure(e.message, startOf(node), false, e.undefinedVar) : e;
  }
}

function childFrame(
  parent: Frame,
  context: unknown,
  data: Record<string, unknown>,
  names: string[],
  values: unknown[],
  unsafe: boolean,
): Frame {
  const params: Record<string, unknown> = {};
  names.forEach((n, i) => (params[n] = values[i]));
  return { context, data, params, parent, unsafe };
}

function evalExpr(node: ExprNode, frame: Frame, env: RenderEnv): unknown {
  switch (node.type) {
    case 'PathExpression':
      return withPos(node, () => evalPath(node, frame, env));
    case 'SubExpression':
      return callHelper(node.path, node.params, node.hash, frame, env);
    case 'StringLiteral':
    case 'NumberLiteral':
    case 'BooleanLiteral':
      return node.value;
    case 'NullLiteral':
      return null;
    case 'UndefinedLiteral':
      return new Undefined('undefined');
  }
}

function withPos<T>(node: { loc?: { start: Pos } }, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EvalFailure && !e.pos) throw new EvalFailure(e.message, startOf(node), false, e.undefinedVar);
    throw e;
  }
}

const THIS_PATH = /^(this|\.)([./]|$)/;

function evalPath(path: PathNode, frame: Frame, env: RenderEnv): unknown {
  let base: unknown;
  let rest = path.parts;
  let key: string | undefined; // cycle-detection key, when the lookup starts at the vars root
  let shown: string; // the path as the user wrote it, for messages
  let unsafe = false; // reached through data marked unsafe: used as it is
  let final = false; // a Jinja loop variable or `{% set %}` name: already rendered
  if (path.data) {
    const [name, ...after] = path.parts;
    rest = after;
    shown = `@${name}`;
    if (name === 'root') {
      base = env.vars;
      key = '';
    } else {
      let f: Frame | undefined = up(frame, path.depth);
      while (f && !Object.prototype.hasOwnProperty.call(f.data, name)) f = f.parent;
      if (!f) return new Undefined(shown, `@${name} exists only inside #each`);
      base = f.data[name];
      unsafe = true; // @key, @index, ...: loop facts, never a var's template
    }
  } else {
    shown = '';
    const f = up(frame, path.depth);
    if (!f) return new Undefined(path.original, 'no enclosing block for ../');
    if (THIS_PATH.test(path.original) || path.parts.length === 0) {
      base = f.context;
      unsafe = f.unsafe === true;
      if (!f.parent) key = '';
    } else {
      const [first, ...after] = path.parts;
      rest = after;
      shown = first;
      const found = findName(first, f, path.depth === 0);
      if (found === MISSING) return new Undefined(path.original);
      base = found.value;
      unsafe = found.unsafe;
      final = found.final === true;
      if (found.root) key = first;
    }
  }
  let viaSecret = isSecretContainer(base);
  // Raw data is rendered where it holds a template, once: what a template rendered to is final.
  unsafe ||= isUnsafeContainer(base) || isUnsafeText(base);
  let raw = !unsafe && !final;
  let value = base;
  if (raw && typeof value === 'string' && hasTemplateText(value)) {
    value = resolveLazy(value, key, env);
    raw = false;
  }
  for (const part of rest) {
    const next = getMember(value, part);
    const prefix = shown || 'this';
    shown = shown ? `${shown}.${part}` : part;
    if (key !== undefined) key = key ? `${key}.${part}` : part;
    if (next === MISSING) return new Undefined(path.original, missingReason(prefix, value, part));
    value = next;
    viaSecret ||= isSecretContainer(value);
    if (unsafe || isUnsafeContainer(value)) {
      // what lies under unsafe data is unsafe too (so a #each over it stays untemplated)
      unsafe = true;
      raw = false;
      value = taintChild(value);
    }
    if (raw && typeof value === 'string' && hasTemplateText(value)) {
      value = resolveLazy(value, key, env);
      raw = false;
    }
  }
  noteSecretRead(value, viaSecret);
  if (raw) return resolveLazy(value, key, env);
  return unsafe && !path.data ? taintChild(value) : value;
}

export function missingReason(prefix: string, value: unknown, part: string): string {
  if (value === null || value === undefined) return `'${prefix}' is none`;
  if (isMapping(value)) return `'${prefix}' has no key '${part}'`;
  if (Array.isArray(value)) return `'${prefix}' is a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  return `'${prefix}' is a ${typeName(value)}`;
}

function up(frame: Frame, depth: number): Frame | undefined {
  let f: Frame | undefined = frame;
  for (let i = 0; i < depth && f; i++) f = f.parent;
  return f;
}

/** Block params first, then the current context, then enclosing ones out to the vars (like Handlebars' compat mode). */
function findName(
  name: string,
  frame: Frame,
  useParams: boolean,
): { value: unknown; root: boolean; unsafe: boolean; final?: boolean } | typeof MISSING {
  if (useParams) {
    for (let f: Frame | undefined = frame; f; f = f.parent) {
      if (Object.prototype.hasOwnProperty.call(f.params, name))
        return { value: f.params[name], root: false, unsafe: f.unsafe === true };
    }
  }
  for (let f: Frame | undefined = frame; f; f = f.parent) {
    if (f.locals && Object.prototype.hasOwnProperty.call(f.locals, name))
      return { value: f.locals[name], root: false, unsafe: f.unsafe === true, final: true };
  }
  for (let f: Frame | undefined = frame; f; f = f.parent) {
    if (f.parent && f.context === f.parent.context) continue; // a {% for %} frame: same context as its parent
    const v = getMember(f.context, name);
    if (v !== MISSING) return { value: v, root: !f.parent, unsafe: f.unsafe === true };
  }
  return MISSING;
}

function callHelper(path: PathNode, params: ExprNode[], hash: ProgramHash, frame: Frame, env: RenderEnv): unknown {
  const name = path.original;
  const def = HELPERS[name];
  if (!def) throw new EvalFailure(`unknown helper '${name}'`, startOf(path));
  const args = params.map((p) => {
    const v = evalExpr(p, frame, env);
    return def.acceptsUndefined ? v : defined(v, p);
  });
  const hashValues: Record<string, unknown> = table({});
  for (const pair of hash?.pairs ?? []) hashValues[pair.key] = defined(evalExpr(pair.value, frame, env), pair.value);
  return withPos(path, () => {
    try {
      return withPlainInputs([args, hashValues], ([a, h]) => def.fn(a as unknown[], h as Record<string, unknown>, env));
    } catch (e) {
      if (e instanceof EvalFailure) throw e;
      throw new EvalFailure(`helper '${name}' failed: ${(e as Error).message}`);
    }
  });
}

type ProgramHash = MustacheNode['hash'];

// ── Jinja parts (src/template/jinja.ts) ──────────────────────────────────────
/** How an Ansible expression inside a template sees names: loop vars and block params first, then the vars. */
function frameScope(frame: Frame): (name: string) => ScopedRef | typeof MISSING {
  return (name) => {
    const found = findName(name, frame, true);
    if (found === MISSING) {
      // `{{#each names}}{{ this | upper }}{{/each}}`: the current item, as in Handlebars
      if (name !== 'this' || !frame.parent) return MISSING;
      if (frame.unsafe) return { value: taintChild(frame.context), raw: false };
      return { value: frame.context, raw: !isUnsafeContainer(frame.context) && !isUnsafeText(frame.context) };
    }
    if (found.unsafe) return { value: taintChild(found.value), raw: false };
    if (found.final || isUnsafeContainer(found.value) || isUnsafeText(found.value))
      return { value: found.value, raw: false };
    return { value: found.value, raw: true, key: found.root ? name : undefined };
  };
}

/** The value of an Ansible expression at this point of the template; errors carry the position as written. */
function jinjaValue(expr: JinjaExpr, frame: Frame, env: RenderEnv, node: Node = expr.node): unknown {
  try {
    return new Evaluator(expr.src, { ...env, scope: frameScope(frame) }).value(node);
  } catch (e) {
    if (e instanceof EvalFailure && e.pos && !e.original) throw new EvalFailure(e.message, e.pos, true, e.undefinedVar);
    throw e;
  }
}

const MAX_INCLUDE_DEPTH = 20;

/**
 * `{% include 'part.j2' %}`: another template file, rendered here with the same names in scope (Jinja's
 * default "with context"). Looked up in the including file's directory, then templates/ and the directory of
 * the playbook. A failure inside it names the file and its line.
 */
function renderInclude(part: Extract<JinjaPart, { k: 'include' }>, frame: Frame, env: RenderEnv, out: Output): void {
  const name = jinjaValue(part.name, frame, env);
  if (isUnsafeText(name)) throw failAt(part.name, '{% include %}: the template name comes from unsafe data');
  if (typeof name !== 'string') throw failAt(part.name, `{% include %} expects a file name, got ${typeName(name)}`);
  const dirs = env.includeDirs ?? [env.baseDir ?? process.cwd()];
  const candidates = isAbsolute(name) ? [name] : dirs.map((d) => resolve(d, name));
  const file = candidates.find((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
  if (!file) {
    if (part.ignoreMissing) return;
    throw failAt(part.name, `{% include %}: template ${name} not found (looked in ${candidates.join(', ')})`);
  }
  const including = env.including ?? [];
  if (including.length >= MAX_INCLUDE_DEPTH || including.includes(file))
    throw failAt(part.name, `{% include %}: ${name} includes itself`);
  // Jinja drops one trailing newline of every template it loads (keep_trailing_newline=False in Ansible)
  const text = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  const inner: RenderEnv = { ...env, including: [...including, file], includeDirs: [dirname(file), ...dirs] };
  try {
    const ast = parseTemplate(text);
    renderProgram(ast, frame, inner, out);
  } catch (e) {
    if (!(e instanceof EvalFailure)) throw e;
    const pos = e.pos && (e.original ? e.pos : originalPos(text, e.pos));
    const where = pos ? `${file}:${pos.line}:${pos.column + 1}` : file;
    throw failAt(part.name, `${e.message} (in ${where}, included here)`);
  }
}

/** `{% set x = v %}` binds x in this frame; `{% set ns.x = v %}` writes into a namespace() made earlier. */
function setJinja(part: Extract<JinjaPart, { k: 'set' }>, frame: Frame, env: RenderEnv): void {
  const value = jinjaValue(part.value, frame, env);
  if (part.attr === undefined) {
    frame.locals ??= table({});
    frame.locals[part.name] = value;
    return;
  }
  const found = findName(part.name, frame, true);
  const ns = found === MISSING ? undefined : found.value;
  if (!isNamespace(ns))
    throw failAt(part.at, `{% set ${part.name}.${part.attr} = ... %}: '${part.name}' is not a namespace()`);
  checkKeyAllowed(part.attr);
  ns[part.attr] = value;
}

function renderJinjaBlock(st: BlockNode, part: JinjaPart, frame: Frame, env: RenderEnv, out: Output): void {
  switch (part.k) {
    case 'raw':
      return renderProgram(st.program, frame, env, out);
    case 'if':
      return renderProgram(truthy(jinjaValue(part.cond, frame, env)) ? st.program : st.inverse, frame, env, out);
    case 'for':
      return renderFor(st, part, frame, env, out);
    default:
      throw new EvalFailure(`unexpected Jinja part '${part.k}'`);
  }
}

function renderFor(
  st: BlockNode,
  part: Extract<JinjaPart, { k: 'for' }>,
  frame: Frame,
  env: RenderEnv,
  out: Output,
): void {
  const value = jinjaValue(part.iter, frame, env);
  const unsafe = isUnsafeContainer(value) || isUnsafeText(value);
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (isMapping(value))
    items = mappingKeys(value); // Jinja iterates a mapping's keys
  else if (typeof value === 'string' || isUnsafeText(value)) items = [...toTemplateString(value)];
  else throw failAt(part.iter, `{% for %} expects a list or mapping, got ${typeName(value)}`);
  if (unsafe) items = items.map((item) => (typeof item === 'string' ? new UnsafeText(item) : taintChild(item)));
  const bind = (item: unknown): Frame => {
    const locals: Record<string, unknown> = table({});
    if (part.targets.length === 1) locals[part.targets[0]] = item;
    else {
      const parts: unknown[] | undefined = Array.isArray(item) ? (item as unknown[]) : undefined;
      if (!parts || parts.length !== part.targets.length)
        throw failAt(
          part.iter,
          `{% for ${part.targets.join(', ')} in ... %}: an item is not a list of ${part.targets.length} (${typeName(item)})`,
        );
      // what is unpacked from unsafe data is unsafe too
      const tainted = isUnsafeContainer(item);
      part.targets.forEach((t, i) => {
        locals[t] = tainted ? taintChild(parts[i]) : parts[i];
      });
    }
    return { context: frame.context, data: {}, params: {}, parent: frame, unsafe: frame.unsafe, locals };
  };
  if (part.filter) {
    const filter = part.filter;
    items = items.filter((item) => truthy(jinjaValue(filter, bind(item), env)));
  }
  if (items.length === 0) return renderProgram(st.inverse, frame, env, out);
  items.forEach((item, i) => {
    const child = bind(item);
    child.locals!.loop = {
      index: i + 1,
      index0: i,
      revindex: items.length - i,
      revindex0: items.length - i - 1,
      first: i === 0,
      last: i === items.length - 1,
      length: items.length,
      previtem: i > 0 ? items[i - 1] : null,
      nextitem: i < items.length - 1 ? items[i + 1] : null,
    };
    renderProgram(st.program, child, env, out);
  });
}

function failAt(expr: JinjaExpr, message: string): EvalFailure {
  const before = expr.src.slice(0, expr.node.start);
  return new EvalFailure(
    message,
    { line: before.split('\n').length, column: expr.node.start - (before.lastIndexOf('\n') + 1) },
    true,
  );
}
