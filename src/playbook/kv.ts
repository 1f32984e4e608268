// Ansible's inline argument strings: `path=/tmp/x state=directory mode="0755"`.
// Splits on whitespace outside quotes and `{{ }}` / `{% %}`, like Ansible's split_args.

export interface Token {
  /** the token as written (quotes kept) */
  raw: string;
  /** offset of the token in the string */
  offset: number;
}

export interface KvPair {
  key: string;
  /** unquoted value */
  value: string;
  /** offset of the value in the string (past the `=`) */
  valueOffset: number;
  token: Token;
}

export function splitArgs(text: string): Token[] {
  const tokens: Token[] = [];
  let start = -1;
  let quote: string | null = null;
  let depth = 0; // inside {{ }} or {% %}
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const pair = text.slice(i, i + 2);
    if (start < 0 && /\s/.test(c)) continue;
    if (start < 0) start = i;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (pair === '{{' || pair === '{%') {
      depth++;
      i++;
    } else if (depth > 0 && (pair === '}}' || pair === '%}')) {
      depth--;
      i++;
    } else if (depth === 0 && (c === '"' || c === "'")) {
      quote = c;
    } else if (depth === 0 && /\s/.test(c)) {
      tokens.push({ raw: text.slice(start, i), offset: start });
      start = -1;
    }
  }
  if (start >= 0) tokens.push({ raw: text.slice(start), offset: start });
  return tokens;
}

/** Removes one level of matching quotes (and backslash escapes inside double quotes). */
export function unquote(s: string): string {
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0]) {
    const inner = s.slice(1, -1);
    return s[0] === '"' ? inner.replace(/\\(["\\])/g, '$1') : inner;
  }
  return s;
}

/** `key=value` tokens (keys are identifiers, templates allowed in them) and the tokens that are not. */
export function parseKv(text: string): { pairs: KvPair[]; free: Token[] } {
  const pairs: KvPair[] = [];
  const free: Token[] = [];
  for (const token of splitArgs(text)) {
    // a key may be templated, as in Ansible's parse_kv: `set_fact: "{{ name }}_port=80"`
    const m = /^((?:[A-Za-z_]|\{\{[^{}]*\}\})(?:[A-Za-z0-9_]|\{\{[^{}]*\}\})*)=/.exec(token.raw);
    if (!m) {
      free.push(token);
      continue;
    }
    const rawValue = token.raw.slice(m[0].length);
    const quoted =
      rawValue.length >= 2 && (rawValue[0] === '"' || rawValue[0] === "'") && rawValue.endsWith(rawValue[0]);
    pairs.push({
      key: m[1],
      value: unquote(rawValue),
      valueOffset: token.offset + m[0].length + (quoted ? 1 : 0),
      token,
    });
  }
  return { pairs, free };
}
