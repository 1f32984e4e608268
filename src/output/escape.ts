// Host output is data: what reaches the terminal never carries a control
// character that the terminal would act on (an escape sequence that retitles it
// or hides text, a `\r` that overwrites a `fatal:` line with a fake `ok:`).
// Every reporter passes the text it did not write itself through here.

/**
 * C0 controls but `\n`, DEL, C1 controls (a terminal may read U+009B as CSI),
 * the line/paragraph separators and the bidirectional overrides (which reorder
 * what is shown).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The same characters, for a test without the global flag's state: most text has none to escape. */
const HAS_UNSAFE = new RegExp(UNSAFE.source);

const NAMED: Record<string, string> = { '\t': '\\t', '\r': '\\r', '\b': '\\b', '\f': '\\f', '\v': '\\v' };

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `s` with every unsafe character written as an escape (`\x1b`, `\r`, `\u202e`); newlines kept. */
export function terminalSafe(s: string): string {
  return HAS_UNSAFE.test(s) ? s.replace(UNSAFE, escapeChar) : s;
}

/** One line: newlines escaped too (a result line must stay one line). */
export function terminalSafeLine(s: string): string {
  return terminalSafe(s).replace(/\n/g, '\\n');
}

/**
 * A JSON text whose strings may hold characters JSON.stringify leaves raw (DEL,
 * C1, separators, bidi overrides): those become \u escapes, still valid JSON.
 */
export function jsonTerminalSafe(json: string): string {
  if (!HAS_UNSAFE.test(json)) return json;
  return json.replace(UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A copy of `value` with every string (and object key) passed through terminalSafe. */
export function deepTerminalSafe<T>(value: T): T {
  if (typeof value === 'string') return terminalSafe(value) as T;
  if (Array.isArray(value)) return value.map(deepTerminalSafe) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[terminalSafe(k)] = deepTerminalSafe(v);
    return out as T;
  }
  return value;
}
