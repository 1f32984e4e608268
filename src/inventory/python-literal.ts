// Ansible types INI inventory values with Python's ast.literal_eval: `22` is
// a number, `True` a boolean, `[1, 2]` a list, `'a b'` a string; anything
// that is not a Python literal (`yes`, `10-5`, `0644`, `56L`) stays the raw
// string. This is that evaluator, for the literal subset only (no eval).

/** The value of a Python literal, or the text itself when it is not one. */
export function iniValue(text: string): unknown {
  const parsed = parsePythonLiteral(text);
  return parsed.ok ? parsed.value : text;
}

export type LiteralResult = { ok: true; value: unknown } | { ok: false };

export function parsePythonLiteral(text: string): LiteralResult {
  const p = new LiteralParser(text);
  try {
    p.skipSpace();
    const value = p.value();
    p.skipSpace();
    if (!p.atEnd()) return { ok: false };
    return { ok: true, value };
  } catch (e) {
    if (e instanceof NotALiteral) return { ok: false };
    throw e;
  }
}

class NotALiteral extends Error {}

const DIGITS = String.raw`\d(?:_?\d)*`;
const EXPONENT = String.raw`[eE][+-]?${DIGITS}`;
const NUMBER_RES: Array<[RegExp, (s: string) => number]> = [
  [/^0[xX](?:_?[0-9a-fA-F])+/, (s) => parseInt(s.slice(2).replace(/_/g, ''), 16)],
  [/^0[oO](?:_?[0-7])+/, (s) => parseInt(s.slice(2).replace(/_/g, ''), 8)],
  [/^0[bB](?:_?[01])+/, (s) => parseInt(s.slice(2).replace(/_/g, ''), 2)],
  [
    new RegExp(`^(?:(?:${DIGITS})?\\.${DIGITS}(?:${EXPONENT})?|${DIGITS}\\.(?:${EXPONENT})?|${DIGITS}${EXPONENT})`),
    (s) => Number(s.replace(/_/g, '')),
  ],
  [/^(?:[1-9](?:_?\d)*|0(?:_?0)*)/, (s) => Number(s.replace(/_/g, ''))],
];

class LiteralParser {
  private pos = 0;
  constructor(private readonly src: string) {}

  atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  private fail(): never {
    throw new NotALiteral();
  }

  /** whitespace and `# comments` (Python allows both around a literal) */
  skipSpace(): void {
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === ' ' || c === '\t' || c === '\f' || c === '\n' || c === '\r') this.pos++;
      else if (c === '#') this.pos = this.src.length;
      else break;
    }
  }

  private peek(): string {
    return this.src[this.pos] ?? '';
  }

  private expect(c: string): void {
    this.skipSpace();
    if (this.peek() !== c) this.fail();
    this.pos++;
  }

  value(): unknown {
    this.skipSpace();
    const c = this.peek();
    if (c === '[') return this.sequence('[', ']');
    if (c === '(') return this.parenthesized();
    if (c === '{') return this.braces();
    if (c === '+' || c === '-') {
      this.pos++;
      this.skipSpace();
      const n = this.number();
      return c === '-' ? -n : n;
    }
    if (/[0-9.]/.test(c)) return this.number();
    if (/[A-Za-z_'"]/.test(c)) {
      const s = this.strings();
      if (s !== undefined) return s;
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos))![0];
      this.pos += name.length;
      if (name === 'True') return true;
      if (name === 'False') return false;
      if (name === 'None') return null;
      this.fail();
    }
    this.fail();
  }

  private number(): number {
    const rest = this.src.slice(this.pos);
    for (const [re, convert] of NUMBER_RES) {
      const m = re.exec(rest);
      if (!m) continue;
      // `56L`, `1j`, `1.2.3`, `0644`: not a (real) number literal
      if (/^[A-Za-z0-9_.]/.test(rest.slice(m[0].length))) this.fail();
      const n = convert(m[0]);
      // beyond 2^53 a JS number would print other digits than Python's int
      if (!Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n) && !m[0].includes('.'))) this.fail();
      this.pos += m[0].length;
      return n;
    }
    this.fail();
  }

  private sequence(open: string, close: string): unknown[] {
    this.expect(open);
    const items: unknown[] = [];
    for (;;) {
      this.skipSpace();
      if (this.peek() === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
      this.skipSpace();
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== close) this.fail();
    }
  }

  /** `()` empty tuple, `(x)` grouping, `(x,)` / `(x, y)` tuple (becomes a list, as Ansible does) */
  private parenthesized(): unknown {
    this.expect('(');
    this.skipSpace();
    if (this.peek() === ')') {
      this.pos++;
      return [];
    }
    const first = this.value();
    this.skipSpace();
    if (this.peek() === ')') {
      this.pos++;
      return first;
    }
    if (this.peek() !== ',') this.fail();
    const items = [first];
    for (;;) {
      this.pos++; // the comma
      this.skipSpace();
      if (this.peek() === ')') break;
      items.push(this.value());
      this.skipSpace();
      if (this.peek() === ')') break;
      if (this.peek() !== ',') this.fail();
    }
    this.pos++;
    return items;
  }

  /** `{}` dict, `{k: v, ...}` dict, `{a, b}` set (becomes a list) */
  private braces(): unknown {
    this.expect('{');
    this.skipSpace();
    if (this.peek() === '}') {
      this.pos++;
      return {};
    }
    const first = this.value();
    this.skipSpace();
    if (this.peek() !== ':') {
      const items = [first];
      for (;;) {
        this.skipSpace();
        if (this.peek() === '}') {
          this.pos++;
          return [...new Set(items)];
        }
        if (this.peek() !== ',') this.fail();
        this.pos++;
        this.skipSpace();
        if (this.peek() === '}') continue;
        items.push(this.value());
      }
    }
    const dict: Record<string, unknown> = {};
    let key = first;
    for (;;) {
      this.expect(':');
      if (key !== null && typeof key === 'object') this.fail(); // unhashable key
      dict[String(key)] = this.value();
      this.skipSpace();
      if (this.peek() === '}') {
        this.pos++;
        return dict;
      }
      if (this.peek() !== ',') this.fail();
      this.pos++;
      this.skipSpace();
      if (this.peek() === '}') {
        this.pos++;
        return dict;
      }
      key = this.value();
    }
  }

  /** One or more adjacent string literals (Python concatenates them); undefined if none here. */
  private strings(): string | undefined {
    let out: string | undefined;
    for (;;) {
      this.skipSpace();
      const m = /^([rRuUbB]{0,2})('''|"""|'|")/.exec(this.src.slice(this.pos));
      if (!m) return out;
      const prefix = m[1].toLowerCase();
      if (prefix.length === 2 && !(prefix === 'rb' || prefix === 'br')) this.fail();
      if (prefix === 'uu' || prefix === 'ur') this.fail();
      this.pos += m[0].length;
      out = (out ?? '') + this.stringBody(m[2], prefix.includes('r'), prefix.includes('b'));
    }
  }

  private stringBody(quote: string, raw: boolean, bytes: boolean): string {
    let out = '';
    for (;;) {
      if (this.atEnd()) this.fail();
      if (this.src.startsWith(quote, this.pos)) {
        this.pos += quote.length;
        return out;
      }
      const c = this.src[this.pos];
      if (c === '\n' && quote.length === 1) this.fail();
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const n = this.src[this.pos + 1];
      if (n === undefined) this.fail();
      if (raw) {
        out += c + n; // a raw string keeps the backslash, but it still protects the quote
        this.pos += 2;
        continue;
      }
      this.pos += 2;
      out += this.escape(n, bytes);
    }
  }

  private escape(n: string, bytes: boolean): string {
    const simple: Record<string, string> = {
      '\\': '\\',
      "'": "'",
      '"': '"',
      a: '\x07',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\v',
      '\n': '',
    };
    if (n in simple) return simple[n];
    if (/[0-7]/.test(n)) {
      const m = /^[0-7]{0,2}/.exec(this.src.slice(this.pos))![0];
      this.pos += m.length;
      return String.fromCharCode(parseInt(n + m, 8));
    }
    const hexLen = n === 'x' ? 2 : !bytes && n === 'u' ? 4 : !bytes && n === 'U' ? 8 : 0;
    if (hexLen) {
      const h = this.src.slice(this.pos, this.pos + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(h)) this.fail();
      this.pos += hexLen;
      const cp = parseInt(h, 16);
      if (cp > 0x10ffff) this.fail();
      return String.fromCodePoint(cp);
    }
    if (n === 'N' && !bytes) this.fail(); // named escapes need Unicode's name table
    return '\\' + n; // Python keeps unknown escapes as they are
  }
}
