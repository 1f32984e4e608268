// Ansible's command module expands each argument on the host before running it
// (module_utils/basic.py run_command with expand_user_and_vars: Python's
// os.path.expandvars, then expanduser): `$NAME` and `${NAME}` become the
// variable's value when it is set and stay as written when it is not; a
// leading `~` or `~user` becomes that home. This builds sh text that does
// exactly that and nothing more: the literal parts are single-quoted, a
// variable is `"${NAME-<literal>}"` (names are [A-Za-z_][A-Za-z0-9_]*, so they
// cannot carry code), and no eval, command substitution or globbing happens.
import { shellQuote } from '../quote.js';

const VAR = /\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})/g;

/** Does the word need the host to expand it? */
export function needsExpansion(word: string): boolean {
  return /^~[A-Za-z0-9_.-]*(?:\/|$)/.test(word) || new RegExp(VAR.source).test(word);
}

/** sh text for one word, expanded on the host as Python's expandvars + expanduser would. */
export function hostExpandedWord(word: string): string {
  if (!needsExpansion(word)) return shellQuote(word);
  let out = '';
  let rest = word;
  // unquoted at the start of the word, up to an unquoted `/`: sh's tilde expansion, nothing else
  const tilde = /^~[A-Za-z0-9_.-]*(?:\/|$)/.exec(word);
  if (tilde) {
    out += tilde[0];
    rest = word.slice(tilde[0].length);
  }
  let last = 0;
  for (const m of rest.matchAll(VAR)) {
    if (m.index > last) out += shellQuote(rest.slice(last, m.index));
    const name = m[1] ?? m[2];
    // unset: the text as written (`\$` and `\}` are literal inside "${…-…}")
    const literal = m[1] !== undefined ? `\\$${name}` : `\\\${${name}\\}`;
    out += `"\${${name}-${literal}}"`;
    last = m.index + m[0].length;
  }
  if (last < rest.length || out === '') out += shellQuote(rest.slice(last));
  return out;
}
