// Parsing templates with the Handlebars parser, caching the AST by text, and
// the static checks done at validation time: syntax with a position, helpers
// that exist with the right number of arguments, and a helpful message for
// Jinja habits (`| filter`, `{% if %}`).
//
// Only Handlebars' parser (one CommonJS file and what it requires): we walk the
// AST ourselves, so its compiler, runtime and source-map are never loaded
// (start-up of every run pays for what it imports). A static import of that
// file, so the bundle (scripts/bundle.mjs) contains it. No helpers are ever
// registered with it, so there is no global state to isolate.
import handlebarsParser from 'handlebars/dist/cjs/handlebars/compiler/base.js';
import { BLOCK_HELPERS, HELPERS } from './helpers.js';
import { attachJinja, translateJinja, type JinjaOptions, type JinjaPart, type Shift } from './jinja.js';
import { EvalFailure, table } from './values.js';

// ── The subset of the Handlebars AST the renderer walks ──────────────────────
export interface Pos {
  line: number; // 1-based
  column: number; // 0-based
}
interface NodeBase {
  loc?: { start: Pos; end: Pos };
}
export interface ProgramNode extends NodeBase {
  type: 'Program';
  body: StatementNode[];
  blockParams?: string[];
  /** set on a template with Jinja statements: the newlines it ends with, which the output keeps (as Ansible) */
  trailingNewlines?: number;
}
export interface PathNode extends NodeBase {
  type: 'PathExpression';
  data: boolean;
  depth: number;
  parts: string[];
  original: string;
}
export interface SubExprNode extends NodeBase {
  type: 'SubExpression';
  path: PathNode;
  params: ExprNode[];
  hash?: HashNode;
}
export interface LiteralNode extends NodeBase {
  type: 'StringLiteral' | 'NumberLiteral' | 'BooleanLiteral' | 'UndefinedLiteral' | 'NullLiteral';
  value?: string | number | boolean;
  original?: unknown;
}
export type ExprNode = PathNode | SubExprNode | LiteralNode;
export interface HashNode extends NodeBase {
  type: 'Hash';
  pairs: Array<{ key: string; value: ExprNode; loc?: { start: Pos } }>;
}
export interface MustacheNode extends NodeBase {
  type: 'MustacheStatement';
  path: ExprNode;
  params: ExprNode[];
  hash?: HashNode;
  /** an Ansible expression or `{% set %}` (src/template/jinja.ts) */
  jinja?: JinjaPart;
}
export interface BlockNode extends NodeBase {
  type: 'BlockStatement';
  path: PathNode;
  params: ExprNode[];
  hash?: HashNode;
  program?: ProgramNode;
  inverse?: ProgramNode;
  /** `{% if %}`, `{% for %}`, `{% raw %}` */
  jinja?: JinjaPart;
}
export interface ContentNode extends NodeBase {
  type: 'ContentStatement';
  value: string;
}
export interface OtherStatementNode extends NodeBase {
  type: 'CommentStatement' | 'PartialStatement' | 'PartialBlockStatement' | 'DecoratorBlock' | 'Decorator';
}
export type StatementNode = MustacheNode | BlockNode | ContentNode | OtherStatementNode;

export function startOf(node: { loc?: { start: Pos } } | undefined): Pos | undefined {
  return node?.loc ? { line: node.loc.start.line, column: node.loc.start.column } : undefined;
}

// ── Parsing ──────────────────────────────────────────────────────────────────
const MAX_CACHE = 10_000;
const cache = new Map<string, ProgramNode>();

/** Parses and statically checks a template; throws EvalFailure with the position of the problem. */
export function parseTemplate(text: string, options: JinjaOptions = {}): ProgramNode {
  const key = cacheKey(text, options);
  const hit = cache.get(key);
  if (hit) return hit;
  try {
    return parseUncached(text, options, key);
  } catch (e) {
    throw e instanceof EvalFailure && !e.message.startsWith(PREFIX)
      ? new EvalFailure(PREFIX + e.message, e.pos, e.original)
      : e;
  }
}

const PREFIX = 'invalid template: ';

/** The text itself, with Ansible's defaults (trim_blocks on, lstrip_blocks off); the options first otherwise. */
function cacheKey(text: string, options: JinjaOptions): string {
  const trim = options.trimBlocks ?? true;
  const lstrip = options.lstripBlocks ?? false;
  return trim && !lstrip ? text : `\0${Number(trim)}${Number(lstrip)}\0${text}`;
}

function parseUncached(text: string, options: JinjaOptions, key: string): ProgramNode {
  const jinja = translateJinja(text, options);
  const rewritten = rewriteAnsiblePaths(jinja.source);
  const source = rewritten.source;
  // positions in `source` → the text as written: undo the path rewrites, then the Jinja placeholders
  const shifts = [rewritten.shifts, jinja.shifts].filter((list) => list.length > 0);
  let ast: ProgramNode;
  try {
    ast = handlebarsParser.parse(source) as ProgramNode;
  } catch (e) {
    throw mapFailure(syntaxFailure(text, source, e as Error), shifts);
  }
  try {
    attachJinja(ast, jinja.parts);
    checkProgram(ast);
  } catch (e) {
    throw mapFailure(e, shifts);
  }
  if (jinja.statements) ast.trailingNewlines = /\n*$/.exec(text.replace(/\r\n/g, '\n'))![0].length;
  if (shifts.length) shiftsByText.set(key, shifts);
  if (cache.size >= MAX_CACHE) {
    cache.clear();
    shiftsByText.clear();
  }
  cache.set(key, ast);
  return ast;
}

// Ansible users write `{{ list.0 }}`, `{{ list[0] }}` and `{{ item['name'] }}`;
// Handlebars lexes the `0` of `list.0` as a number and has no `[...]`
// subscripts, so such segments become `list.[0]` / `item.[name]` before
// parsing. Each rewrite is remembered to map positions back to the text as written.
const shiftsByText = new Map<string, Shift[][]>();

function rewriteAnsiblePaths(text: string): { source: string; shifts: Shift[] } {
  if (!/\.\d|[\w\]]\[/.test(text)) return { source: text, shifts: [] };
  const shifts: Shift[] = [];
  let out = '';
  let line = 1;
  let lineStart = 0;
  let inMustache = false;
  let quote = '';
  const rewrite = (original: string, replacement: string): void => {
    out += replacement;
    shifts.push({ line, column: out.length - lineStart, delta: replacement.length - original.length });
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line++;
      lineStart = out.length + 1;
    }
    if (!inMustache && text.startsWith('{{{{', i)) {
      // a raw block is copied as written, up to and including its closing tag
      const close = /\{\{\{\{\/[^}]*\}\}\}\}/g;
      close.lastIndex = i + 4;
      const end = close.exec(text);
      const stop = end ? end.index + end[0].length : text.length;
      const chunk = text.slice(i, stop);
      const newlines = chunk.split('\n').length - 1;
      if (newlines) {
        line += newlines;
        lineStart = out.length + chunk.lastIndexOf('\n') + 1;
      }
      out += chunk;
      i = stop - 1;
      continue;
    }
    if (!inMustache) {
      if (c === '{' && text[i + 1] === '{' && text[i - 1] !== '\\') inMustache = true;
    } else if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '}' && text[i + 1] === '}') inMustache = false;
    else if (/[\w\]]/.test(text[i - 1] ?? '')) {
      const rest = text.slice(i);
      const dotDigits = c === '.' ? /^\.(\d+)(?=[\s}~).|=[]|$)/.exec(rest) : null;
      const subscript = c === '[' ? /^\[\s*(?:(\d+)|'([^'\]]*)'|"([^"\]]*)")\s*\]/.exec(rest) : null;
      const m = dotDigits ?? subscript;
      if (m) {
        rewrite(m[0], `.[${m[1] ?? m[2] ?? m[3]}]`);
        i += m[0].length - 1;
        continue;
      }
    }
    out += c;
  }
  return { source: out, shifts };
}

/** A position in the rewritten text → the same place in the text as written. */
export function originalPos(text: string, pos: Pos, options: JinjaOptions = {}): Pos {
  return (shiftsByText.get(cacheKey(text, options)) ?? []).reduce(unshift, pos);
}

function unshift(pos: Pos, shifts: Shift[] | undefined): Pos {
  if (!shifts?.length) return pos;
  const delta = shifts
    .filter((s) => s.line === pos.line && s.column <= pos.column)
    .reduce((sum, s) => sum + s.delta, 0);
  return { line: pos.line, column: pos.column - delta };
}

function mapFailure(e: unknown, shifts: Shift[][]): unknown {
  if (!(e instanceof EvalFailure) || !e.pos || e.original || !shifts.length) return e;
  return new EvalFailure(e.message, shifts.reduce(unshift, e.pos), true, e.undefinedVar);
}

export function posOfOffset(text: string, offset: number): Pos {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) };
}

function syntaxFailure(text: string, source: string, e: Error & { lineNumber?: number; column?: number }): EvalFailure {
  const hint = unclosedMustache(text);
  if (hint) return new EvalFailure(hint.message, hint.pos, true);
  if (typeof e.lineNumber === 'number') {
    return new EvalFailure(e.message.split('\n')[0].replace(/ - \d+:\d+$/, ''), {
      line: e.lineNumber,
      column: e.column ?? 0,
    });
  }
  // The jison lexer keeps the position of the token it failed on.
  const lexer = handlebarsParser.parser.lexer;
  const at = lexer?.yylloc;
  const pos = at ? { line: at.first_line, column: at.first_column } : undefined;
  const got = /got '([^']+)'/.exec(e.message)?.[1];
  const what =
    got === 'EOF'
      ? "unexpected end of template (an unclosed {{#block}}, or a missing '}}'?)"
      : got === 'INVALID' && pos
        ? `unexpected character ${JSON.stringify(source.split('\n')[pos.line - 1]?.[pos.column] ?? '')}`
        : got
          ? `unexpected ${describeToken(got)}`
          : e.message.split('\n')[0];
  return new EvalFailure(what, pos);
}

function describeToken(token: string): string {
  const names: Record<string, string> = table({
    CLOSE: "'}}'",
    OPEN: "'{{'",
    OPEN_SEXPR: "'('",
    CLOSE_SEXPR: "')'",
    EQUALS: "'='",
    ID: 'name',
    STRING: 'string',
    NUMBER: 'number',
    CLOSE_BLOCK_PARAMS: "'|'",
  });
  return names[token] ?? `'${token}'`;
}

function unclosedMustache(text: string): { message: string; pos: Pos } | undefined {
  if (text.includes('{{{{')) return undefined; // raw blocks: leave it to the parser
  const open = /(?<!\\)\{\{/g;
  for (let m = open.exec(text); m; m = open.exec(text)) {
    const close = text.indexOf('}}', m.index + 2);
    const next = text.indexOf('{{', m.index + 2);
    if (close < 0 || (next >= 0 && next < close))
      return { message: "unclosed '{{' (missing '}}')", pos: posOfOffset(text, m.index) };
  }
  return undefined;
}

// ── Static checks ────────────────────────────────────────────────────────────
function checkProgram(program: ProgramNode | undefined): void {
  for (const st of program?.body ?? []) {
    switch (st.type) {
      case 'MustacheStatement':
        if (st.jinja) break; // parsed and checked by the expression parser
        if (st.path.type === 'PathExpression' && (st.params.length > 0 || (st.hash?.pairs.length ?? 0) > 0)) {
          checkCall(st.path, st.params, st.hash);
        } else checkExprs(st.params);
        break;
      case 'BlockStatement': {
        const name = st.path.original;
        if (st.jinja) {
          checkProgram(st.program);
          checkProgram(st.inverse);
          break;
        }
        if (name === 'raw' && st.params.length === 0) break; // {{{{raw}}}} ... {{{{/raw}}}}: kept as written
        if (!BLOCK_HELPERS.has(name)) {
          throw new EvalFailure(`unknown block helper '#${name}' (known: #if, #unless, #each, #with)`, startOf(st));
        }
        if (st.params.length !== 1) {
          throw new EvalFailure(`#${name} takes exactly one argument, got ${st.params.length}`, startOf(st));
        }
        checkExprs(st.params);
        checkProgram(st.program);
        checkProgram(st.inverse);
        break;
      }
      case 'PartialStatement':
      case 'PartialBlockStatement':
        throw new EvalFailure('partials ({{> name}}) are not supported', startOf(st));
      case 'DecoratorBlock':
      case 'Decorator':
        throw new EvalFailure('decorators ({{* name}}) are not supported', startOf(st));
      default:
        break;
    }
  }
}

function checkExprs(exprs: ExprNode[]): void {
  for (const e of exprs) if (e.type === 'SubExpression') checkCall(e.path, e.params, e.hash);
}

function checkCall(path: PathNode, params: ExprNode[], hash: HashNode | undefined): void {
  const name = path.original;
  const def = path.parts.length === 1 && !path.data ? HELPERS[name] : undefined;
  if (!def) {
    const known = Object.keys(HELPERS).sort().join(', ');
    throw new EvalFailure(`unknown helper '${name}' (known: ${known})`, startOf(path));
  }
  if (params.length < def.minArgs || params.length > def.maxArgs) {
    const want =
      def.minArgs === def.maxArgs
        ? `${def.minArgs}`
        : def.maxArgs === Infinity
          ? `at least ${def.minArgs}`
          : `${def.minArgs} to ${def.maxArgs}`;
    throw new EvalFailure(
      `helper '${name}' takes ${want} argument${want === '1' ? '' : 's'}, got ${params.length}`,
      startOf(path),
    );
  }
  checkExprs(params);
  checkExprs((hash?.pairs ?? []).map((p) => p.value));
}
