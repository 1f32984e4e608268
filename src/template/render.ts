// The renderer: walks the Handlebars AST itself instead of compiling it, so
// that it can be strict (an undefined variable is an error naming it) while
// `default`/`defined` still see undefined values, keep a single `{{ expr }}`'s
// type, resolve vars whose values are templates lazily (with loop detection),
// and never touch JS internals (no __proto__/constructor, no generated code).
import { isSecretContainer, noteSecretRead } from '../vault/secrecy.js';
import { HELPERS, type HelperEnv } from './helpers.js';
import {
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
}

const MAX_NESTING = 100;
const MAX_DEPTH = 64;

export function hasTemplateText(text: string): boolean {
  return text.includes('{{');
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
    throw new EvalFailure(`${e.message} (in the value of '${key}')`);
  } finally {
    env.resolving.pop();
  }
}

function stripPos(e: unknown): unknown {
  return e instanceof EvalFailure && e.pos ? new EvalFailure(e.message) : e;
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
      Object.defineProperty(out, newKey, { value: r, enumerable: true, writable: true, configurable: true });
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
export function renderTemplateString(text: string, env: RenderEnv): string {
  if (!hasTemplateText(text)) return text;
  const ast = parseTemplate(text);
  const out = new Output();
  renderProgram(ast, rootFrame(env), env, out);
  return out.parts.join('');
}

/** A template that is exactly one `{{ expr }}` (whitespace around allowed) keeps its value's type. */
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
  return out.value();
}

function singleMustache(ast: ProgramNode): MustacheNode | undefined {
  let found: MustacheNode | undefined;
  for (const st of ast.body) {
    if (st.type === 'ContentStatement') {
      if (st.value.trim() !== '') return undefined;
    } else if (st.type === 'MustacheStatement' && !found) found = st;
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
        out.pushValue(mustacheValue(st, frame, env));
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
  const hasArgs = st.params.length > 0 || (st.hash?.pairs.length ?? 0) > 0;
  if (st.path.type === 'PathExpression' && hasArgs)
    return defined(callHelper(st.path, st.params, st.hash, frame, env), st.path);
  return defined(evalExpr(st.path, frame, env), st.path);
}

function defined(v: unknown, node: ExprNode, hint = ''): unknown {
  if (v instanceof Undefined) throw new EvalFailure(v.message() + hint, startOf(node));
  return v;
}

function renderBlock(st: BlockNode, frame: Frame, env: RenderEnv, out: Output): void {
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
    throw e instanceof EvalFailure && !e.pos ? new EvalFailure(e.message, startOf(node)) : e;
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
    if (e instanceof EvalFailure && !e.pos) throw new EvalFailure(e.message, startOf(node));
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
      if (found.root) key = first;
    }
  }
  let viaSecret = isSecretContainer(base);
  // Raw data is rendered where it holds a template, once: what a template rendered to is final.
  unsafe ||= isUnsafeContainer(base) || isUnsafeText(base);
  let raw = !unsafe;
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
): { value: unknown; root: boolean; unsafe: boolean } | typeof MISSING {
  if (useParams) {
    for (let f: Frame | undefined = frame; f; f = f.parent) {
      if (Object.prototype.hasOwnProperty.call(f.params, name))
        return { value: f.params[name], root: false, unsafe: f.unsafe === true };
    }
  }
  for (let f: Frame | undefined = frame; f; f = f.parent) {
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
