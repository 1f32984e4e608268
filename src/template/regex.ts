// Regular expressions written in playbooks (regex_replace, regex_search,
// regex_findall, the match/search tests) run on host output: with a
// backtracking engine, `^(a+)+$` on 40 characters of 'aaaa…!' takes longer than
// the universe, and a task `timeout` cannot stop a synchronous loop. So they run
// on RE2 (re2js, pure JS), which matches in time linear in the input. The
// syntax is Python's as RE2 reads it: (?P<name>…) groups, (?i), \A, \Z.
// RE2 has no backreferences and no lookaround: those patterns are refused with
// a clear message rather than run with exponential worst case.
import { RE2JS } from 're2js';
import { EvalFailure } from './values.js';

export interface RegexOptions {
  ignorecase?: boolean;
  multiline?: boolean;
}

/**
 * Compiled patterns, by flags and pattern: a task's pattern is compiled once, not once per host
 * (compiling costs ~0.5 ms; an RE2JS is immutable, each use makes its own matcher). Bounded.
 */
const compiled = new Map<string, RE2JS>();
const MAX_COMPILED = 256;

/** Compiles a playbook's (Python-syntax) pattern for RE2. */
export function compileUserRegex(pattern: string, opts: RegexOptions = {}): RE2JS {
  const flags = (opts.ignorecase ? RE2JS.CASE_INSENSITIVE : 0) | (opts.multiline ? RE2JS.MULTILINE : 0);
  const key = `${flags}:${pattern}`;
  const known = compiled.get(key);
  if (known) return known;
  // Python's \Z (end of text) is RE2's \z
  const translated = pattern.replace(/(^|[^\\])((?:\\\\)*)\\Z/g, '$1$2\\z');
  try {
    const re = RE2JS.compile(translated, flags);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, re);
    return re;
  } catch (e) {
    const why = (e as Error).message.replace(/^error parsing regexp: /, '');
    const hint = /\(\?[=!<]|\\[1-9]|\(\?P=/.test(pattern)
      ? ' (lookaround and backreferences are not supported: patterns run in linear time on host output)'
      : '';
    throw new EvalFailure(`invalid regular expression ${JSON.stringify(pattern)}: ${why}${hint}`);
  }
}

/** Python's re.search(...) is not None. */
export function regexTest(value: string, pattern: string, opts: RegexOptions = {}): boolean {
  return compileUserRegex(pattern, opts).matcher(value).find();
}

/** The first match's text, or null (Ansible's regex_search without group arguments). */
export function regexSearch(value: string, pattern: string, opts: RegexOptions = {}): string | null {
  const m = compileUserRegex(pattern, opts).matcher(value);
  return m.find() ? m.group() : null;
}

/** Python's re.findall: whole matches, the one group, or the groups of each match. */
export function regexFindall(value: string, pattern: string, opts: RegexOptions = {}): unknown[] {
  const m = compileUserRegex(pattern, opts).matcher(value);
  const groups = m.groupCount();
  const out: unknown[] = [];
  while (m.find()) {
    if (groups === 0) out.push(m.group());
    else if (groups === 1) out.push(m.group(1) ?? '');
    else out.push(Array.from({ length: groups }, (_, i) => m.group(i + 1) ?? ''));
  }
  return out;
}

/** Python's re.sub: `\1`, `\g<1>`, `\g<name>` and `\\` in the replacement; a group that did not take part is ''. */
export function regexReplace(value: string, pattern: string, replacement: string, opts: RegexOptions = {}): string {
  const m = compileUserRegex(pattern, opts).matcher(value);
  let out = '';
  let last = 0;
  while (m.find()) {
    out += value.slice(last, m.start());
    out += replacement.replace(
      /\\(?:(\d+)|g<(\d+)>|g<([A-Za-z_]\w*)>|(\\))/g,
      (whole: string, n1?: string, n2?: string, name?: string, bs?: string) => {
        if (bs) return '\\';
        try {
          return m.group(name ?? Number(n1 ?? n2)) ?? '';
        } catch {
          throw new EvalFailure(
            `regex_replace: the replacement refers to ${whole}, which ${JSON.stringify(pattern)} does not have`,
          );
        }
      },
    );
    last = m.end();
  }
  return out + value.slice(last);
}
