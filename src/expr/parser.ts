// Recursive-descent parser with Jinja2's precedence, loosest first:
//   x if c else y · or · and · not · comparisons (==, !=, <, <=, >, >=, in, not in; chained)
//   · + - · ~ · * / // % · ** · unary - + · postfix: .attr [index] (call) | filter  is test
import type { CompareOp, Node } from './ast.js';
import { ExprSyntaxError, readSoFar } from './errors.js';
import { tokenize, type Token } from './lexer.js';
import { FILTERS, FUNCTIONS, METHODS, TESTS } from './filters.js';
import { table } from '../template/values.js';

const KEYWORD_LITERALS: Record<string, unknown> = table({
  true: true,
  True: true,
  false: false,
  False: false,
  none: null,
  None: null,
  null: null,
});
const RESERVED = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else']);

export function parseExpression(src: string): Node {
  return new Parser(src).parseAll();
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;

  constructor(private readonly src: string) {
    this.tokens = tokenize(src);
  }

  parseAll(): Node {
    if (this.peek().type === 'eof') throw new ExprSyntaxError(this.src, 0, 'empty expression');
    const node = this.parseConditional();
    const t = this.peek();
    if (t.type !== 'eof') {
      const hint =
        t.type === 'name' && this.prev()?.type !== 'op'
          ? ' (a missing operator such as and/or/==?)'
          : t.value === '='
            ? " (use '==' to compare)"
            : '';
      throw this.error(t, `unexpected ${describe(t)}${hint}`);
    }
    return node;
  }

  // ── token helpers ──
  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)];
  }
  private prev(): Token | undefined {
    return this.tokens[this.i - 1];
  }
  private next(): Token {
    const t = this.peek();
    if (t.type !== 'eof') this.i++;
    return t;
  }
  private isOp(value: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.type === 'op' && t.value === value;
  }
  private isName(value: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.type === 'name' && t.value === value;
  }
  private expectOp(value: string): Token {
    if (!this.isOp(value)) throw this.error(this.peek(), `expected '${value}'`, true);
    return this.next();
  }
  private error(t: Token, what: string, expected = false): ExprSyntaxError {
    const soFar = readSoFar(this.src, t.start);
    const where = soFar ? ` after "${soFar}"` : ' at the start';
    const got = expected ? (t.type === 'eof' ? '' : `, got ${describe(t)}`) : '';
    return new ExprSyntaxError(this.src, t.start, `${what}${where}${got}`);
  }
  private end(): number {
    return this.prev()?.end ?? 0;
  }

  // ── grammar ──
  private parseConditional(): Node {
    const start = this.peek().start;
    const then = this.parseOr();
    if (!this.isName('if')) return then;
    this.next();
    const test = this.parseOr();
    let otherwise: Node | undefined;
    if (this.isName('else')) {
      this.next();
      otherwise = this.parseConditional();
    }
    return { k: 'cond', test, then, otherwise, start, end: this.end() };
  }

  private parseOr(): Node {
    let left = this.parseAnd();
    while (this.isName('or')) {
      this.next();
      this.needOperand('or');
      const right = this.parseAnd();
      left = { k: 'or', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private parseAnd(): Node {
    let left = this.parseNot();
    while (this.isName('and')) {
      this.next();
      this.needOperand('and');
      const right = this.parseNot();
      left = { k: 'and', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private parseNot(): Node {
    if (this.isName('not')) {
      const t = this.next();
      this.needOperand('not');
      const operand = this.parseNot();
      return { k: 'unary', op: 'not', operand, start: t.start, end: operand.end };
    }
    return this.parseCompare();
  }

  private parseCompare(): Node {
    const first = this.parseMath1();
    const rest: Array<[CompareOp, Node]> = [];
    for (;;) {
      const t = this.peek();
      let op: CompareOp | undefined;
      if (t.type === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.value as string)) op = t.value as CompareOp;
      else if (this.isName('in')) op = 'in';
      else if (this.isName('not') && this.isName('in', 1)) op = 'not in';
      if (!op) break;
      this.next();
      if (op === 'not in') this.next();
      this.needOperand(op);
      rest.push([op, this.parseMath1()]);
    }
    if (!rest.length) return first;
    return { k: 'cmp', first, rest, start: first.start, end: rest[rest.length - 1][1].end };
  }

  private parseBinary(ops: string[], operand: () => Node): Node {
    let left = operand();
    while (this.peek().type === 'op' && ops.includes(this.peek().value as string)) {
      const op = this.next().value as '+';
      this.needOperand(op);
      const right = operand();
      left = { k: 'bin', op, left, right, start: left.start, end: right.end };
    }
    return left;
  }
  private parseMath1 = (): Node => this.parseBinary(['+', '-'], this.parseConcat);
  private parseConcat = (): Node => this.parseBinary(['~'], this.parseMath2);
  private parseMath2 = (): Node => this.parseBinary(['*', '/', '//', '%'], this.parsePow);
  private parsePow = (): Node => this.parseBinary(['**'], () => this.parseUnary(true));

  private needOperand(after: string): void {
    const t = this.peek();
    if (t.type === 'eof' || (t.type === 'op' && [')', ']', '}', ',', ':', '|'].includes(t.value as string))) {
      throw this.error(t, `expected a value after '${after}'`, true);
    }
  }

  private parseUnary(withFilters: boolean): Node {
    const t = this.peek();
    let node: Node;
    if (t.type === 'op' && (t.value === '-' || t.value === '+')) {
      this.next();
      this.needOperand(t.value);
      const operand = this.parseUnary(false);
      node = { k: 'unary', op: t.value as '-', operand, start: t.start, end: operand.end };
    } else {
      node = this.parsePrimary();
    }
    node = this.parsePostfix(node);
    return withFilters ? this.parseFiltersAndTests(node) : node;
  }

  private parsePrimary(): Node {
    const t = this.next();
    const base = { start: t.start, end: t.end };
    switch (t.type) {
      case 'num':
      case 'str':
        return { k: 'lit', value: t.value, ...base };
      case 'name': {
        const name = t.value as string;
        if (name in KEYWORD_LITERALS) return { k: 'lit', value: KEYWORD_LITERALS[name], ...base };
        if (RESERVED.has(name)) throw this.error(t, `expected a value, got '${name}'`);
        return { k: 'name', name, ...base };
      }
      case 'op':
        if (t.value === '(') {
          const inner = this.parseConditional();
          if (this.isOp(',')) return this.parseSequenceRest(t, inner, ')'); // a tuple, as a list
          this.expectOp(')');
          return { ...inner, start: t.start, end: this.end() };
        }
        if (t.value === '[') return this.parseSequenceRest(t, undefined, ']');
        if (t.value === '{') return this.parseDict(t);
        break;
      case 'eof':
        throw this.error(t, 'expected a value');
    }
    throw this.error(t, `unexpected ${describe(t)}`);
  }

  private parseSequenceRest(open: Token, first: Node | undefined, close: string): Node {
    const items: Node[] = first ? [first] : [];
    if (first) this.next(); // the ',' after the first item of a tuple
    while (!this.isOp(close)) {
      if (this.peek().type === 'eof') throw this.error(this.peek(), `expected '${close}'`, true);
      items.push(this.parseConditional());
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expectOp(close);
    return { k: 'list', items, start: open.start, end: this.end() };
  }

  private parseDict(open: Token): Node {
    const entries: Array<[Node, Node]> = [];
    while (!this.isOp('}')) {
      if (this.peek().type === 'eof') throw this.error(this.peek(), "expected '}'", true);
      const key = this.parseConditional();
      this.expectOp(':');
      entries.push([key, this.parseConditional()]);
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expectOp('}');
    return { k: 'dict', entries, start: open.start, end: this.end() };
  }

  private parsePostfix(node: Node): Node {
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const t = this.next();
        if (t.type !== 'name' && t.type !== 'num') throw this.error(t, "expected a name after '.'");
        node =
          t.type === 'num'
            ? {
                k: 'index',
                obj: node,
                index: { k: 'lit', value: t.value, start: t.start, end: t.end },
                start: node.start,
                end: t.end,
              }
            : { k: 'attr', obj: node, name: t.value as string, start: node.start, end: t.end };
      } else if (this.isOp('[')) {
        this.next();
        node = this.parseSubscript(node);
      } else if (this.isOp('(')) {
        node = this.parseCall(node);
      } else return node;
    }
  }

  private parseSubscript(obj: Node): Node {
    let from: Node | undefined;
    if (!this.isOp(':')) from = this.parseConditional();
    if (this.isOp(':')) {
      this.next();
      const to = this.isOp(']') ? undefined : this.parseConditional();
      this.expectOp(']');
      return { k: 'slice', obj, from, to, start: obj.start, end: this.end() };
    }
    this.expectOp(']');
    return { k: 'index', obj, index: from!, start: obj.start, end: this.end() };
  }

  private parseArgs(): { args: Node[]; kwargs: Record<string, Node> } {
    this.expectOp('(');
    const args: Node[] = [];
    const kwargs: Record<string, Node> = {};
    while (!this.isOp(')')) {
      if (this.peek().type === 'eof') throw this.error(this.peek(), "expected ')'", true);
      if (this.peek().type === 'name' && this.isOp('=', 1)) {
        const key = this.next().value as string;
        this.next();
        kwargs[key] = this.parseConditional();
      } else {
        args.push(this.parseConditional());
      }
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expectOp(')');
    return { args, kwargs };
  }

  private parseCall(callee: Node): Node {
    const at = this.peek();
    if (callee.k === 'name' && !(callee.name in FUNCTIONS)) {
      throw new ExprSyntaxError(
        this.src,
        callee.start,
        `unknown function '${callee.name}' (known: ${Object.keys(FUNCTIONS).join(', ')})`,
      );
    }
    if (callee.k === 'attr' && !METHODS.has(callee.name)) {
      throw new ExprSyntaxError(
        this.src,
        at.start,
        `unknown method '${callee.name}()' (known: ${[...METHODS].sort().join(', ')})`,
      );
    }
    if (callee.k !== 'name' && callee.k !== 'attr') throw this.error(at, 'this value cannot be called');
    const { args, kwargs } = this.parseArgs();
    return { k: 'call', callee, args, kwargs, start: callee.start, end: this.end() };
  }

  private parseFiltersAndTests(node: Node): Node {
    for (;;) {
      if (this.isOp('|')) {
        this.next();
        const t = this.next();
        if (t.type !== 'name') throw this.error(t, "expected a filter name after '|'");
        const name = t.value as string;
        if (!(name in FILTERS)) {
          throw new ExprSyntaxError(
            this.src,
            t.start,
            `unknown filter '${name}' (known: ${Object.keys(FILTERS).sort().join(', ')})`,
          );
        }
        const { args, kwargs } = this.isOp('(') ? this.parseArgs() : { args: [], kwargs: {} };
        node = { k: 'filter', input: node, name, args, kwargs, start: node.start, end: this.end() };
      } else if (this.isName('is')) {
        this.next();
        let negated = false;
        if (this.isName('not')) {
          this.next();
          negated = true;
        }
        const t = this.next();
        if (t.type !== 'name' && !(t.type === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.value as string))) {
          throw this.error(t, "expected a test name after 'is'");
        }
        const name = t.value as string;
        if (!(name in TESTS)) {
          throw new ExprSyntaxError(
            this.src,
            t.start,
            `unknown test '${name}' (known: ${Object.keys(TESTS)
              .filter((n) => /^\w+$/.test(n))
              .sort()
              .join(', ')})`,
          );
        }
        let args: Node[] = [];
        if (this.isOp('(')) args = this.parseArgs().args;
        else if (this.startsPrimary()) args = [this.parsePostfix(this.parsePrimary())]; // `x is divisibleby 3`
        node = { k: 'test', input: node, name, args, negated, start: node.start, end: this.end() };
      } else return node;
    }
  }

  private startsPrimary(): boolean {
    const t = this.peek();
    if (t.type === 'num' || t.type === 'str') return true;
    if (t.type === 'name') return !RESERVED.has(t.value as string);
    return t.type === 'op' && (t.value === '[' || t.value === '{');
  }
}

function describe(t: Token): string {
  switch (t.type) {
    case 'eof':
      return 'end of expression';
    case 'name':
      return `'${t.value}'`;
    case 'str':
      return `string ${JSON.stringify(t.value)}`;
    case 'num':
      return `number ${t.value}`;
    default:
      return `'${t.value}'`;
  }
}
