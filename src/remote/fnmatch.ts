// Python's fnmatch.fnmatch on POSIX, as Ansible's find matches base names
// (CPython Lib/fnmatch.py, `translate`): case-sensitive; `*` and `?` also match
// `/`, newlines and a leading dot; `[...]` is a set (`[!...]` its complement, a
// leading `]` or `-` is literal, `z-a` is an empty range, `\` is literal); a `[`
// without its `]` is a literal `[`. The whole name must match. The pattern
// becomes an RE2 regex, so a name is matched in linear time whatever the stars.
import { RE2JS } from 're2js';

const REGEX_SPECIAL = /[\\^$.|?*+()[\]{}-]/;

function escapeChar(c: string): string {
  return REGEX_SPECIAL.test(c) ? `\\${c}` : c;
}

/** The set's body (between `[` or `[!` and `]`) as the members of a regex class, or '' when it is empty. */
function setMembers(body: string[]): string {
  let out = '';
  let i = 0;
  while (i < body.length) {
    // a range: the first character, `-`, and the next (a `-` just after a range is literal)
    if (i + 2 < body.length && body[i + 1] === '-') {
      if (body[i] <= body[i + 2]) out += `${escapeChar(body[i])}-${escapeChar(body[i + 2])}`;
      i += 3;
    } else {
      out += escapeChar(body[i]);
      i += 1;
    }
  }
  return out;
}

/** The RE2 source matching exactly the names fnmatch(name, pattern) accepts. */
export function fnmatchSource(pattern: string): string {
  const p = [...pattern];
  let out = '';
  let i = 0;
  while (i < p.length) {
    const c = p[i++];
    if (c === '*') {
      while (p[i] === '*') i++;
      out += '.*';
    } else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i;
      if (p[j] === '!') j++;
      if (p[j] === ']') j++;
      while (j < p.length && p[j] !== ']') j++;
      if (j >= p.length) {
        out += '\\[';
        continue;
      }
      const negate = p[i] === '!';
      const members = setMembers(p.slice(negate ? i + 1 : i, j));
      i = j + 1;
      if (members === '') out += negate ? '.' : '[^\\x00-\\x{10FFFF}]';
      else out += `[${negate ? '^' : ''}${members}]`;
    } else out += escapeChar(c);
  }
  return `^(?s:${out})$`;
}

/** Compiled once per pattern; `matches(name)` is fnmatch.fnmatch(name, pattern). */
export function compileFnmatch(pattern: string): { matches(name: string): boolean } {
  const re = RE2JS.compile(fnmatchSource(pattern));
  return { matches: (name) => re.matches(name) };
}
