// Ansible's template syntax inside our Handlebars templates: `{{ expr }}` with
// an Ansible expression (filters, operators, calls: src/expr), `{% if %}`,
// `{% for %}`, `{% set %}`, `{% raw %}`, `{# #}` and whitespace control.
//
// One pass over the text splits it into literal text, Handlebars mustaches and
// blocks (copied as written) and Jinja parts, each replaced by a placeholder
// the Handlebars parser accepts (`{{__jinja_x 3}}`, `{{#__jinja_if 4}}`...),
// with as many newlines as it replaced, so lines keep their numbers. After
// parsing, `attachJinja` hangs the parsed Jinja part on each placeholder node.
//
// Which `{{ }}` is which: a bare path (`a.b`, `list.0`, `item['k']`, `this`,
// `@index`, `../x`) and a helper call (`default x "y"`) stay Handlebars, as
// they always were; anything else is an Ansible expression (`x | upper`,
// `a ~ b`, `f(x)`, literals). An expression that is neither is reported with
// the Ansible parser's message, at its line and column.
//
// Jinja tags are wrapped in empty guards so that Handlebars' "standalone line"
// rule never applies to them: Ansible's whitespace rules are Jinja's with
// trim_blocks=True (the newline right after a `{% %}` or `{# #}` goes) and
// lstrip_blocks=False (the indentation before it stays).
import type { Node } from '../expr/ast.js';
import { parseExpression } from '../expr/parser.js';
import { tokenize } from '../expr/lexer.js';
import { EvalFailure } from './values.js';

/** An expression parsed from text padded so that its positions are those of the template as written. */
export interface JinjaExpr {
  node: Node;
  src: string;
}

export type JinjaPart =
  | { k: 'expr'; expr: JinjaExpr }
  | { k: 'if'; cond: JinjaExpr }
  | { k: 'for'; targets: string[]; iter: JinjaExpr; filter?: JinjaExpr }
  | { k: 'set'; name: string; attr?: string; value: JinjaExpr; at: JinjaExpr }
  | { k: 'raw'; stripStart: boolean; stripEnd: boolean }
  | { k: 'include'; name: JinjaExpr; ignoreMissing: boolean };

export interface Shift {
  line: number;
  /** column (in the rewritten text) where the rewritten segment ends */
  column: number;
  /** rewritten length minus original length, on this line */
  delta: number;
}

export interface Translated {
  source: string;
  parts: JinjaPart[];
  shifts: Shift[];
  /** the text holds `{% %}` or `{# #}`: trailing newlines are kept as Ansible does */
  statements: boolean;
}

export const PLACEHOLDER = '__jinja_';

/** Jinja's whitespace options; Ansible's defaults are trim_blocks=true, lstrip_blocks=false. */
export interface JinjaOptions {
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
}

const KNOWN_STATEMENTS = new Set(
  (
    'if elif else endif for endfor set endset raw endraw macro endmacro call endcall filter endfilter block endblock ' +
    'extends include import from with endwith do break continue autoescape endautoescape trans endtrans'
  ).split(' '),
);

/** `a.b`, `list.0`, `list[0]`, `item['k']`, `this`, `@index`, `../x`, `my-key`: read by Handlebars, as always. */
// no `-` in a name: `{{ x-1 }}` is Jinja's subtraction, as in the Ansible content it comes from
const HANDLEBARS_PATH =
  /^\s*(?:\.\.\/)*(?:@?[A-Za-z_$][\w$]*|this|\.)(?:(?:\.|\/)(?:[\w$]+|\[[^\]]*\])|\[\s*(?:\d+|'[^'\]]*'|"[^"\]]*")\s*\])*\s*$/;

/** Line starts of a text, for offset → line/column. */
class Lines {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  pos(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] };
  }
}

class Translator {
  private out = '';
  private outLineStart = 0;
  /** how far the current output line is ahead of the same line as written */
  private lineDelta = 0;
  readonly shifts: Shift[] = [];
  readonly parts: JinjaPart[] = [];
  private readonly stack: Array<{ kind: 'if' | 'for' | 'hb'; name: string; at: number; sawElse: boolean }> = [];
  private readonly lines: Lines;
  statements = false;

  private trimBlocks: boolean;
  private lstripBlocks: boolean;

  constructor(
    private readonly text: string,
    options: JinjaOptions,
  ) {
    this.lines = new Lines(text);
    this.trimBlocks = options.trimBlocks ?? true;
    this.lstripBlocks = options.lstripBlocks ?? false;
  }

  /** The guard before a Jinja tag at `at`: `-` strips, lstrip_blocks takes the indentation before it. */
  private before(at: number, mark: string): string {
    if (mark === '-') return `{{~${PLACEHOLDER}z}}`;
    if (this.lstripBlocks && mark !== '+' && this.onlyIndentBefore(at)) return `{{${PLACEHOLDER}ls}}`;
    return `{{${PLACEHOLDER}z}}`;
  }

  /** The guard after a Jinja tag: `-` strips, trim_blocks takes the newline (`+` keeps it). */
  private after(mark: string): string {
    if (mark === '-') return `{{${PLACEHOLDER}z~}}`;
    return this.trimBlocks && mark !== '+' ? `{{${PLACEHOLDER}tb}}` : `{{${PLACEHOLDER}z}}`;
  }

  private onlyIndentBefore(at: number): boolean {
    let i = at - 1;
    while (i >= 0 && (this.text[i] === ' ' || this.text[i] === '\t')) i--;
    return i < 0 || this.text[i] === '\n';
  }

  /**
   * `#jinja2: trim_blocks: False, lstrip_blocks: True` as the first line: Ansible's per-template
   * override (JINJA2_OVERRIDE in lib/ansible/template/__init__.py); the line itself is not output.
   */
  private header(): number {
    const prefix = '#jinja2:';
    if (!this.text.startsWith(prefix)) return 0;
    const eol = this.text.indexOf('\n');
    const stop = eol < 0 ? this.text.length : eol + 1;
    const line = this.text.slice(prefix.length, eol < 0 ? this.text.length : eol);
    let offset = prefix.length;
    for (const pair of line.split(',')) {
      const m = /^\s*(\w+)\s*:\s*(\S+?)\s*$/.exec(pair);
      const word = m?.[2].toLowerCase();
      const value = word === 'true' ? true : word === 'false' ? false : undefined;
      if (m && m[1] !== 'trim_blocks' && m[1] !== 'lstrip_blocks')
        throw this.fail(offset, `#jinja2: ${m[1]} is not supported (only trim_blocks and lstrip_blocks)`);
      if (!m || value === undefined)
        throw this.fail(
          offset,
          `cannot read the #jinja2: override ${JSON.stringify(pair.trim())} (want key: True|False)`,
        );
      if (m[1] === 'trim_blocks') this.trimBlocks = value;
      else this.lstripBlocks = value;
      offset += pair.length + 1;
    }
    this.replace(0, stop, `{{${PLACEHOLDER}z${eol < 0 ? '' : '\n'}}}`);
    return stop;
  }

  fail(offset: number, message: string): EvalFailure {
    return new EvalFailure(message, this.lines.pos(offset), true);
  }

  /** Copies text as written. */
  private copy(from: number, to: number): void {
    const chunk = this.text.slice(from, to);
    const nl = chunk.lastIndexOf('\n');
    if (nl >= 0) {
      this.outLineStart = this.out.length + nl + 1;
      this.lineDelta = 0;
    }
    this.out += chunk;
  }

  /** Replaces text[from, to) with `replacement` (which has the same newlines) and remembers the column shift. */
  private replace(from: number, to: number, replacement: string): void {
    const nl = replacement.lastIndexOf('\n');
    if (nl >= 0) {
      this.outLineStart = this.out.length + nl + 1;
      this.lineDelta = 0;
    }
    this.out += replacement;
    const absolute = this.out.length - this.outLineStart - this.lines.pos(to).column;
    const delta = absolute - this.lineDelta;
    if (delta !== 0) {
      this.shifts.push({ line: this.lines.pos(to).line, column: this.out.length - this.outLineStart, delta });
      this.lineDelta = absolute;
    }
  }

  private newlines(from: number, to: number): string {
    return '\n'.repeat(this.text.slice(from, to).split('\n').length - 1);
  }

  /** Parses an expression at text[from, to), keeping its positions. */
  expr(from: number, to: number, what: string): JinjaExpr {
    const inner = this.text.slice(from, to);
    const at = this.lines.pos(from);
    const src = '\n'.repeat(at.line - 1) + ' '.repeat(at.column) + inner;
    if (inner.trim() === '') throw this.fail(from, `empty expression in ${what}`);
    try {
      return { node: parseExpression(src), src };
    } catch (e) {
      if (e instanceof EvalFailure) throw new EvalFailure(`${e.message} in ${what}`, e.pos, true, e.undefinedVar);
      throw e;
    }
  }

  run(): Translated {
    const { text } = this;
    let i = this.header();
    while (i < text.length) {
      const j = text.indexOf('{', i);
      if (j < 0) break;
      this.copy(i, j);
      i = j;
      if (text.startsWith('{{{{', i)) i = this.handlebarsRaw(i);
      else if (text.startsWith('{{', i)) i = this.mustache(i);
      else if (text.startsWith('{%', i)) i = this.statement(i);
      else if (text.startsWith('{#', i)) i = this.comment(i);
      else {
        this.copy(i, i + 1);
        i++;
      }
    }
    this.copy(i, text.length);
    const open = this.stack.find((s) => s.kind !== 'hb');
    if (open) throw this.fail(open.at, `{% ${open.name} %} is never closed (missing {% end${open.name} %})`);
    return { source: this.out, parts: this.parts, shifts: this.shifts, statements: this.statements };
  }

  /** `{{{{raw}}}}...{{{{/raw}}}}`: copied as written, up to its closing tag. */
  private handlebarsRaw(i: number): number {
    const close = /\{\{\{\{\/[^}]*\}\}\}\}/g;
    close.lastIndex = i + 4;
    const end = close.exec(this.text);
    const stop = end ? end.index + end[0].length : this.text.length;
    this.copy(i, stop);
    return stop;
  }

  private mustache(i: number): number {
    const { text } = this;
    // `\{{` is Handlebars' escape: literal text (and `\\{{` a backslash, then a mustache)
    if (text[i - 1] === '\\' && text[i - 2] !== '\\') {
      this.copy(i, i + 2);
      return i + 2;
    }
    if (text[i + 2] === '{') return this.copyUntil(i, '}}}');
    const strip = text[i + 2] === '-' || text[i + 2] === '~' ? text[i + 2] : '';
    const k = i + 2 + strip.length;
    const head = text.slice(k, k + 12);
    if (/^!--/.test(head)) return this.copyUntil(i, '--}}', '--~}}');
    if (/^[!#/^>&*]/.test(head) || /^\s*else(?![\w$-])/.test(head)) return this.handlebarsTag(i, k, strip);
    const end = this.expressionEnd(k);
    if (end < 0) {
      // unclosed: the Handlebars parser reports it
      this.copy(i, text.length);
      return text.length;
    }
    const rstrip = text[end - 1] === '-' || (text[end - 1] === '~' && end - 1 > k) ? text[end - 1] : '';
    const innerEnd = end - rstrip.length;
    const inner = text.slice(k, innerEnd);
    if (inner.includes(PLACEHOLDER)) throw this.fail(k, `names starting with ${PLACEHOLDER} are reserved`);
    const close = end + 2;
    const open = strip ? '{{~' : '{{';
    const shut = rstrip ? '~}}' : '}}';
    const asWritten = (): number => {
      this.replace(i, close, open + inner + shut);
      return close;
    };
    // Python's None/True/False are literals, never variables
    if (HANDLEBARS_PATH.test(inner) && !/^\s*(?:None|none|True|False)\s*$/.test(inner)) return asWritten();
    if (/^\s*\.[A-Za-z]/.test(inner)) {
      const written = text.slice(i, close);
      throw this.fail(
        i,
        `${written} looks like a Go template (docker --format): escape it as \\${written} or wrap it in {% raw %}...{% endraw %} (or {{{{raw}}}}...{{{{/raw}}}})`,
      );
    }
    let expr: JinjaExpr;
    try {
      expr = this.expr(k, innerEnd, `{{ ${shorten(inner)} }}`);
    } catch (e) {
      if (isHandlebarsCall(inner)) return asWritten(); // `default x "y"`: a helper call, as always
      throw e;
    }
    this.parts.push({ k: 'expr', expr });
    this.replace(i, close, `${open}${PLACEHOLDER}x ${this.parts.length - 1}${this.newlines(k, innerEnd)}${shut}`);
    return close;
  }

  /** `{{#name ...}}`, `{{/name}}`, `{{else}}`, `{{> p}}`...: copied as written; blocks are tracked to catch crossed ones. */
  private handlebarsTag(i: number, k: number, strip: string): number {
    const { text } = this;
    const end = text.indexOf('}}', k);
    if (end < 0) {
      this.copy(i, text.length);
      return text.length;
    }
    const inner = text.slice(k, end);
    if (inner.includes(PLACEHOLDER)) throw this.fail(k, `names starting with ${PLACEHOLDER} are reserved`);
    const name = /^[#^/]\s*([^\s}~()]+)/.exec(inner)?.[1];
    if (name && inner[0] !== '/' && !name.startsWith('>') && !name.startsWith('*'))
      this.stack.push({ kind: 'hb', name, at: i, sawElse: false });
    if (name && inner[0] === '/') {
      const top = this.stack[this.stack.length - 1];
      if (top && top.kind !== 'hb')
        throw this.fail(i, `{{/${name}}} closes a Handlebars block, but {% ${top.name} %} is still open`);
      if (top) this.stack.pop();
    }
    const open = last(this.stack);
    if (!name && open && open.kind !== 'hb' && /^\s*else/.test(inner))
      throw this.fail(i, `{{else}} inside {% ${open.name} %}: write {% else %} (or {% elif x %})`);
    this.replace(i, end + 2, (strip ? '{{~' : '{{') + text.slice(k, end + 2));
    return end + 2;
  }

  private copyUntil(i: number, ...closers: string[]): number {
    const ends = closers.map((c) => [this.text.indexOf(c, i + 2), c.length] as const).filter(([at]) => at >= 0);
    const stop = ends.length ? Math.min(...ends.map(([at, len]) => at + len)) : this.text.length;
    this.copy(i, stop);
    return stop;
  }

  /** Offset of the `}}` that closes an expression starting at `k` (quotes and brackets skipped), or -1. */
  private expressionEnd(k: number): number {
    const { text } = this;
    let depth = 0;
    let quote = '';
    for (let i = k; i < text.length; i++) {
      const c = text[i];
      if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = '';
        continue;
      }
      if (c === '"' || c === "'") quote = c;
      else if (c === '{' && text[i + 1] === '{' && depth === 0)
        break; // unclosed: the next mustache starts
      else if (c === '(' || c === '[' || c === '{') depth++;
      else if ((c === ')' || c === ']') && depth > 0) depth--;
      else if (c === '}') {
        if (depth > 0) depth--;
        else if (text[i + 1] === '}') return i;
      }
    }
    // unbalanced (`{{ f('y' }}`): the first `}}`, so the expression parser says what is wrong
    const close = text.indexOf('}}', k);
    const next = text.indexOf('{{', k);
    return close >= 0 && (next < 0 || close < next) ? close : -1;
  }

  private comment(i: number): number {
    const end = this.text.indexOf('#}', i + 2);
    if (end < 0) {
      this.copy(i, i + 2); // `${#array[@]}` in a shell line: text, not a comment
      return i + 2;
    }
    this.statements = true;
    const lstrip = this.text[i + 2] === '-';
    const rstrip = this.text[end - 1] === '-' && end - 1 >= i + 2 + (lstrip ? 1 : 0);
    const core = `{{${PLACEHOLDER}z${this.newlines(i, end)}}}`;
    const rmark = rstrip ? '-' : this.text[end - 1] === '+' ? '+' : '';
    this.replace(i, end + 2, this.before(i, lstrip ? '-' : this.text[i + 2]) + core + this.after(rmark));
    return end + 2;
  }

  private statement(i: number): number {
    const { text } = this;
    const mark = text[i + 2] === '-' || text[i + 2] === '+' ? text[i + 2] : '';
    const bodyStart = i + 2 + mark.length;
    const head = /^(\s*)([A-Za-z_]\w*)/.exec(text.slice(bodyStart, bodyStart + 40));
    const keyword = head?.[2];
    const end = keyword ? this.statementEnd(bodyStart) : -1;
    if (!keyword || !KNOWN_STATEMENTS.has(keyword)) {
      // `{% foo %}` is a tag Ansible would refuse too; `{%d}` in a printf format is text
      if (keyword && head[1] && end >= 0) throw this.fail(i, `unknown Jinja statement {% ${keyword} %}`);
      this.copy(i, i + 2);
      return i + 2;
    }
    if (end < 0) throw this.fail(i, `{% ${keyword} is not closed (missing '%}')`);
    this.statements = true;
    const rmark = text[end - 1] === '-' || text[end - 1] === '+' ? text[end - 1] : '';
    const bodyEnd = end - rmark.length;
    const kwStart = text.indexOf(keyword, bodyStart);
    const argStart = kwStart + keyword.length;
    const args = text.slice(argStart, bodyEnd);
    const close = end + 2;
    const nl = this.newlines(i, close);
    const wrap = (core: string): void => this.replace(i, close, this.before(i, mark) + core + this.after(rmark));
    const top = this.stack[this.stack.length - 1];
    const noArgs = (): void => {
      if (args.trim()) throw this.fail(argStart, `{% ${keyword} %} takes nothing after '${keyword}'`);
    };
    switch (keyword) {
      case 'if': {
        const cond = this.expr(argStart, bodyEnd, '{% if %}');
        this.parts.push({ k: 'if', cond });
        this.stack.push({ kind: 'if', name: 'if', at: i, sawElse: false });
        wrap(`{{#${PLACEHOLDER}if ${this.parts.length - 1}${nl}}}`);
        return close;
      }
      case 'elif': {
        if (top?.kind !== 'if') throw this.fail(i, `{% elif %} outside {% if %}${openHint(top)}`);
        if (top.sawElse) throw this.fail(i, '{% elif %} after {% else %}');
        const cond = this.expr(argStart, bodyEnd, '{% elif %}');
        this.parts.push({ k: 'if', cond });
        wrap(`{{else ${PLACEHOLDER}if ${this.parts.length - 1}${nl}}}`);
        return close;
      }
      case 'else':
        noArgs();
        if (top?.kind !== 'if' && top?.kind !== 'for')
          throw this.fail(i, `{% else %} outside {% if %} or {% for %}${openHint(top)}`);
        if (top.sawElse) throw this.fail(i, `a second {% else %} in one {% ${top.name} %}`);
        top.sawElse = true;
        wrap(`{{else${nl}}}`);
        return close;
      case 'endif':
      case 'endfor': {
        noArgs();
        const kind = keyword.slice(3);
        if (top?.kind !== kind) throw this.fail(i, `{% ${keyword} %} without an open {% ${kind} %}${openHint(top)}`);
        this.stack.pop();
        wrap(`{{/${PLACEHOLDER}${kind}${nl}}}`);
        return close;
      }
      case 'for': {
        this.parts.push(this.forPart(argStart, bodyEnd));
        this.stack.push({ kind: 'for', name: 'for', at: i, sawElse: false });
        wrap(`{{#${PLACEHOLDER}for ${this.parts.length - 1}${nl}}}`);
        return close;
      }
      case 'set': {
        const m = /^\s*([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?\s*=(?!=)/.exec(args);
        if (!m) {
          throw this.fail(
            argStart,
            /^\s*[A-Za-z_]\w*\s*$/.test(args)
              ? 'block {% set x %}...{% endset %} is not supported: write {% set x = expression %}'
              : 'expected {% set name = expression %}',
          );
        }
        const value = this.expr(argStart + m[0].length, bodyEnd, '{% set %}');
        const target = argStart + args.indexOf(m[1]);
        const at = this.expr(target, target + m[1].length, '{% set %}'); // where to point a failure
        this.parts.push({ k: 'set', name: m[1], attr: m[2], value, at });
        wrap(`{{${PLACEHOLDER}set ${this.parts.length - 1}${nl}}}`);
        return close;
      }
      case 'include': {
        // `{% include 'part.j2' %}`, `{% include x ignore missing %}`; `with/without context` is Jinja's default
        const m = /\s+ignore\s+missing\s*$|\s+with\s+context\s*$/.exec(args);
        if (/\s+without\s+context\s*$/.test(args))
          throw this.fail(i, '{% include ... without context %} is not supported');
        const name = this.expr(argStart, m ? argStart + m.index : bodyEnd, '{% include %}');
        this.parts.push({ k: 'include', name, ignoreMissing: /ignore/.test(m?.[0] ?? '') });
        wrap(`{{${PLACEHOLDER}inc ${this.parts.length - 1}${nl}}}`);
        return close;
      }
      case 'raw':
        noArgs();
        return this.raw(i, close, mark, rmark === '-');
      case 'endraw':
        throw this.fail(i, '{% endraw %} without {% raw %}');
      default:
        throw this.fail(
          i,
          `Jinja statement {% ${keyword} %} is not supported (supported: if/elif/else/endif, for/else/endfor, set, include, raw, {# comments #})`,
        );
    }
  }

  private raw(i: number, afterOpen: number, mark: string, stripStart: boolean): number {
    const endTag = /\{%([-+]?)\s*endraw\s*([-+]?)%\}/g;
    endTag.lastIndex = afterOpen;
    const m = endTag.exec(this.text);
    if (!m) throw this.fail(i, '{% raw %} is never closed (missing {% endraw %})');
    const content = this.text.slice(afterOpen, m.index);
    if (content.includes('{{{{/')) throw this.fail(afterOpen, "'{{{{/' cannot appear inside {% raw %}");
    this.parts.push({ k: 'raw', stripStart, stripEnd: m[1] === '-' });
    const n = this.parts.length - 1;
    const close = m.index + m[0].length;
    const openTag = `{{{{${PLACEHOLDER}raw ${n}${this.newlines(i, afterOpen)}}}}}`;
    const closeTag = `{{{{/${PLACEHOLDER}raw${this.newlines(m.index, close)}}}}}`;
    this.replace(i, afterOpen, this.before(i, mark) + openTag);
    this.copy(afterOpen, m.index);
    this.replace(m.index, close, closeTag + this.after(m[2]));
    return close;
  }

  /** `{% for x in xs %}`, `{% for k, v in d.items() %}`, `{% for x in xs if x.on %}`. */
  private forPart(from: number, to: number): JinjaPart {
    const args = this.text.slice(from, to);
    const m = /^\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s+in\b/.exec(args);
    if (!m) throw this.fail(from, 'expected {% for name in expression %}');
    const targets = m[1].split(',').map((t) => t.trim());
    const iterFrom = from + m[0].length;
    // `if` at the top level starts the loop filter (Jinja: no `x if c else y` here)
    let iterTo = to;
    let depth = 0;
    try {
      for (const t of tokenize(this.text.slice(iterFrom, to))) {
        if (t.type === 'op' && ['(', '[', '{'].includes(t.value as string)) depth++;
        else if (t.type === 'op' && [')', ']', '}'].includes(t.value as string)) depth--;
        else if (depth === 0 && t.type === 'name' && (t.value === 'if' || t.value === 'recursive')) {
          if (t.value === 'recursive') throw this.fail(iterFrom + t.start, 'recursive loops are not supported');
          iterTo = iterFrom + t.start;
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof EvalFailure) || e.original) throw e; // a lexer error: the parser below reports it
    }
    const iter = this.expr(iterFrom, iterTo, '{% for %}');
    const filter = iterTo < to ? this.expr(iterTo + 2, to, '{% for ... if %}') : undefined;
    return { k: 'for', targets, iter, filter };
  }

  /** Offset of the `%}` closing a statement (quotes skipped), or -1. */
  private statementEnd(k: number): number {
    const { text } = this;
    let quote = '';
    for (let i = k; i < text.length; i++) {
      const c = text[i];
      if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '%' && text[i + 1] === '}') return i;
    }
    return -1;
  }
}

function shorten(s: string): string {
  const t = s.trim().replace(/\s+/g, ' ');
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
}

function last<T>(stack: T[]): T | undefined {
  return stack[stack.length - 1];
}

function openHint(top: { kind: string; name: string } | undefined): string {
  return top?.kind === 'hb' ? ` (the Handlebars block {{#${top.name}}} is open here)` : '';
}

/** `default x "y"`, `join list ","`: a name, then space-separated arguments (not an Ansible expression). */
function isHandlebarsCall(inner: string): boolean {
  // a name, then an argument (not an operator word: `x is nosuchtest` is a broken Ansible expression)
  if (!/^\s*[A-Za-z_][\w-]*\s+(?!(?:is|in|and|or|not|if|else)(?![\w-]))[\w"'@(.]/.test(inner)) return false;
  // `default(x)` / `x | f` are Ansible forms, never Handlebars
  const outsideQuotes = inner.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  return !/[|,]|\w\(/.test(outsideQuotes);
}

/** Splits Ansible parts from Handlebars ones; see the top of this file. */
export function translateJinja(text: string, options: JinjaOptions = {}): Translated {
  return new Translator(text, options).run();
}

// ── After parsing ────────────────────────────────────────────────────────────
interface AnyNode {
  type: string;
  path?: { type: string; original?: unknown };
  params?: Array<{ type: string; value?: unknown }>;
  program?: { body: AnyNode[] };
  inverse?: { body: AnyNode[] };
  value?: string;
  jinja?: JinjaPart;
}

/** Drops the guards, applies trim_blocks and hangs each Jinja part on its placeholder node. */
export function attachJinja(tree: object | undefined, parts: JinjaPart[]): void {
  const program = tree as { body: AnyNode[] } | undefined;
  if (!program) return;
  const body: AnyNode[] = [];
  let trimNewline = false;
  for (const st of program.body) {
    const name = st.path?.type === 'PathExpression' ? String(st.path.original) : '';
    const part = name.startsWith(PLACEHOLDER) ? parts[Number(st.params?.[0]?.value)] : undefined;
    if (st.type === 'MustacheStatement' && name.startsWith(PLACEHOLDER)) {
      if (name === `${PLACEHOLDER}tb`) {
        trimNewline = true;
        continue;
      }
      if (name === `${PLACEHOLDER}ls`) {
        // lstrip_blocks: the spaces and tabs between the line start and the tag
        const prev = body[body.length - 1];
        if (prev?.type === 'ContentStatement' && prev.value !== undefined)
          prev.value = prev.value.replace(/(^|\n)[ \t]+$/, '$1');
        trimNewline = false;
        continue;
      }
      trimNewline = false;
      if (name === `${PLACEHOLDER}z`) continue;
      st.jinja = part;
      body.push(st);
      continue;
    }
    if (st.type === 'ContentStatement' && trimNewline && st.value !== undefined)
      st.value = st.value.replace(/^\r?\n/, '');
    trimNewline = false;
    if (st.type === 'BlockStatement') {
      if (part) st.jinja = part;
      if (part?.k === 'raw') stripRaw(st, part);
      attachJinja(st.program, parts);
      attachJinja(st.inverse, parts);
    }
    body.push(st);
  }
  program.body = body;
}

function stripRaw(st: AnyNode, part: Extract<JinjaPart, { k: 'raw' }>): void {
  const content = st.program?.body ?? [];
  const first = content[0];
  const last = content[content.length - 1];
  if (part.stripStart && first?.type === 'ContentStatement') first.value = (first.value ?? '').replace(/^\s+/, '');
  if (part.stripEnd && last?.type === 'ContentStatement') last.value = (last.value ?? '').replace(/\s+$/, '');
}
