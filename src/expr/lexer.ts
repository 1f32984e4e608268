// Tokens of the condition language (Jinja2 expressions as Ansible writes them in `when`).
import { ExprSyntaxError } from './errors.js';
import { table } from '../template/values.js';

export type TokenType = 'num' | 'str' | 'name' | 'op' | 'eof';

export interface Token {
  type: TokenType;
  /** the number, the decoded string, the name, or the operator text */
  value: string | number;
  start: number; // offset in the source
  end: number;
}

const OPERATORS = [
  '**',
  '//',
  '==',
  '!=',
  '<=',
  '>=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '~',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  '.',
  ':',
  '|',
  '=',
];

const ESCAPES: Record<string, string> = table({
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
});

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    const prev = tokens[tokens.length - 1];
    // After a '.', digits are an attribute (`list.0.name`), never a float.
    const afterDot = prev?.type === 'op' && prev.value === '.';
    if (/[0-9]/.test(c)) {
      const m = afterDot ? /^\d+/.exec(src.slice(i)) : /^(\d[\d_]*)(\.\d[\d_]*)?([eE][-+]?\d+)?/.exec(src.slice(i));
      const text = m![0];
      i += text.length;
      if (/^[A-Za-z_]/.test(src.slice(i)))
        throw new ExprSyntaxError(src, start, `invalid number ${JSON.stringify(text + /^\w+/.exec(src.slice(i))![0])}`);
      tokens.push({ type: 'num', value: Number(text.replace(/_/g, '')), start, end: i });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const text = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))![0];
      i += text.length;
      tokens.push({ type: 'name', value: text, start, end: i });
      continue;
    }
    if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= src.length)
          throw new ExprSyntaxError(
            src,
            start,
            `unterminated string starting at ${JSON.stringify(src.slice(start, start + 20))}`,
          );
        const ch = src[i];
        if (ch === c) {
          i++;
          break;
        }
        if (ch === '\\') {
          const next = src[i + 1] ?? '';
          if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(i + 2, i + 4))) {
            value += String.fromCharCode(parseInt(src.slice(i + 2, i + 4), 16));
            i += 4;
          } else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
            value += String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16));
            i += 6;
          } else if (next in ESCAPES) {
            value += ESCAPES[next];
            i += 2;
          } else {
            value += '\\' + next; // Python keeps unknown escapes (e.g. regex `\d`) as written
            i += 2;
          }
          continue;
        }
        value += ch;
        i++;
      }
      tokens.push({ type: 'str', value, start, end: i });
      continue;
    }
    if (src.startsWith('===', i) || src.startsWith('!==', i)) {
      throw new ExprSyntaxError(src, start, `unexpected '${src.slice(i, i + 3)}': use '${src.slice(i, i + 2)}'`);
    }
    if (src.startsWith('||', i) || src.startsWith('&&', i)) {
      throw new ExprSyntaxError(src, start, `unexpected '${src.slice(i, i + 2)}': use '${c === '|' ? 'or' : 'and'}'`);
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) {
      if (c === '!') throw new ExprSyntaxError(src, start, "unexpected '!': use 'not' for negation");
      throw new ExprSyntaxError(src, start, `unexpected character ${JSON.stringify(c)}`);
    }
    i += op.length;
    tokens.push({ type: 'op', value: op, start, end: i });
  }
  tokens.push({ type: 'eof', value: '', start: src.length, end: src.length });
  return tokens;
}
