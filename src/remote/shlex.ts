// Splits a command string the way Python's shlex.split does (POSIX mode),
// which is how Ansible's command module turns `command: ls -l "a b"` into argv.

export interface Token {
  value: string;
  /** offsets of the raw token in the input */
  start: number;
  end: number;
}

const SPACE = /\s/;
/** Where a run of characters that stand for themselves (no blank, quote or backslash) ends. */
const PLAIN_RUN = /[^\s'"\\]*/y;

export function shlexTokens(s: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && SPACE.test(s[i])) i++;
    if (i >= s.length) break;
    const start = i;
    let value = '';
    while (i < s.length && !SPACE.test(s[i])) {
      const c = s[i];
      if (c === "'") {
        const close = s.indexOf("'", i + 1);
        if (close < 0) throw new Error('No closing quotation');
        value += s.slice(i + 1, close);
        i = close + 1;
      } else if (c === '"') {
        i++;
        for (;;) {
          if (i >= s.length) throw new Error('No closing quotation');
          const d = s[i];
          if (d === '"') break;
          // inside double quotes, a backslash escapes only `"` and `\` (shlex's escapedquotes)
          if (d === '\\' && i + 1 < s.length && (s[i + 1] === '"' || s[i + 1] === '\\')) {
            value += s[i + 1];
            i += 2;
          } else {
            value += d;
            i++;
          }
        }
        i++;
      } else if (c === '\\') {
        if (i + 1 >= s.length) throw new Error('No escaped character');
        value += s[i + 1];
        i += 2;
      } else {
        PLAIN_RUN.lastIndex = i;
        PLAIN_RUN.test(s);
        value += s.slice(i, PLAIN_RUN.lastIndex);
        i = PLAIN_RUN.lastIndex;
      }
    }
    tokens.push({ value, start, end: i });
  }
  return tokens;
}

export function shlexSplit(s: string): string[] {
  return shlexTokens(s).map((t) => t.value);
}
