// Host patterns as in `hosts:` and `-l`: names, groups, `all` / `*`, globs,
// `~regex`, `@file`, subscripts `web[0]` `web[1:3]` `web[-1]`, joined by `:` or
// `,`; a `&` term intersects and a `!` term excludes. Like Ansible, unions are
// applied first, then intersections, then exclusions, whatever the written
// order; hosts come out in the order the terms find them, each once.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PhxError } from '../errors.js';
import { groupHosts, type Inventory } from './model.js';
import { isBareIPv6 } from './ranges.js';
import { LOCALHOST_NAMES } from './variables.js';

export interface SelectHostsOptions {
  /** directory `@file` terms resolve from (default: the process's) */
  baseDir?: string;
}

export function selectHosts(inv: Inventory, pattern: string, opts: SelectHostsOptions = {}): string[] {
  const terms = splitPattern(pattern).flatMap((t) =>
    t.startsWith('@') ? readPatternFile(t.slice(1), opts.baseDir) : [t],
  );
  if (terms.length === 0) return [];
  let hosts: string[] = [];
  for (const term of orderTerms(terms)) {
    if (inv.hosts.has(term)) {
      if (!hosts.includes(term)) hosts.push(term);
      continue;
    }
    const matched = matchTerm(inv, term);
    if (term.startsWith('!')) {
      const drop = new Set(matched);
      hosts = hosts.filter((h) => !drop.has(h));
    } else if (term.startsWith('&')) {
      const keep = new Set(matched);
      hosts = hosts.filter((h) => keep.has(h));
    } else {
      const have = new Set(hosts);
      hosts.push(...matched.filter((h) => !have.has(h)));
    }
  }
  return hosts;
}

/** `a:b,&c` → ['a', 'b', '&c']; keeps IPv6 addresses and `[x:y]` subscripts whole. */
export function splitPattern(pattern: string): string[] {
  return pattern
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .flatMap((p) =>
      isBareIPv6(p) || /^\[[0-9a-fA-F:.]+\](?::\d+)?$/.test(p) ? [p] : (p.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? []),
    );
}

/** Unions first, then intersections, then exclusions; only & and ! terms mean "from all". */
function orderTerms(terms: string[]): string[] {
  const regular = terms.filter((t) => !t.startsWith('&') && !t.startsWith('!'));
  const intersections = terms.filter((t) => t.startsWith('&'));
  const exclusions = terms.filter((t) => t.startsWith('!'));
  return [...(regular.length ? regular : ['all']), ...intersections, ...exclusions];
}

function readPatternFile(path: string, baseDir?: string): string[] {
  const full = resolve(baseDir ?? process.cwd(), path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (e) {
    throw new PhxError(
      `cannot read host pattern file @${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Hosts one term (without its & or !) names, in group/inventory order, each once. */
function matchTerm(inv: Inventory, term: string): string[] {
  const body = term.startsWith('&') || term.startsWith('!') ? term.slice(1) : term;
  const { expr, subscript } = splitSubscript(body);
  const groups = matchNames([...inv.groups.keys()], expr);
  const found = groups.flatMap((g) => groupHosts(inv, g));
  if (groups.length === 0 || expr.startsWith('~') || /[.?*[]/.test(expr))
    found.push(...matchNames([...inv.hosts.keys()], expr));
  if (found.length === 0 && LOCALHOST_NAMES.includes(expr) && !inv.hosts.has(expr)) found.push(expr);
  const unique = [...new Set(found)];
  return subscript ? applySubscript(unique, subscript, body) : unique;
}

interface Subscript {
  start: number;
  end?: number;
}

function splitSubscript(pattern: string): { expr: string; subscript?: Subscript } {
  if (pattern.startsWith('~')) return { expr: pattern };
  const m = /^(.+)\[(?:(-?\d+)|(\d+):(\d*))\]$/.exec(pattern);
  if (!m) return { expr: pattern };
  if (m[2] !== undefined) return { expr: m[1], subscript: { start: Number(m[2]) } };
  return { expr: m[1], subscript: { start: Number(m[3]), end: m[4] === '' ? -1 : Number(m[4]) } };
}

function applySubscript(hosts: string[], s: Subscript, pattern: string): string[] {
  if (s.end === undefined) {
    const i = s.start < 0 ? hosts.length + s.start : s.start;
    if (i < 0 || i >= hosts.length) {
      throw new PhxError(
        `no hosts matched the subscripted pattern '${pattern}': it matches ${hosts.length} host(s), numbered from 0`,
      );
    }
    return [hosts[i]];
  }
  const end = s.end === -1 ? hosts.length - 1 : s.end; // [x:y] includes y, as in Ansible
  return hosts.slice(s.start, end + 1);
}

/** Names a glob (`pve*`, `web-?`, `db[12]`) or `~regex` (anchored at the start, like Python's re.match) selects. */
function matchNames(names: string[], pattern: string): string[] {
  let re: RegExp;
  if (pattern.startsWith('~')) {
    try {
      re = new RegExp(`^(?:${pattern.slice(1).replace(/\(\?P</g, '(?<')})`);
    } catch (e) {
      throw new PhxError(`invalid regular expression in host pattern '${pattern}': ${(e as Error).message}`);
    }
  } else {
    re = globToRegExp(pattern);
  }
  return names.filter((n) => re.test(n));
}

/** Python's fnmatch.translate: * ? [seq] [!seq], everything else literal, whole name. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++; // a ']' first in the set is a member, not the end
      const close = glob.indexOf(']', j);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let set = glob.slice(i + 1, close);
      const negate = set.startsWith('!');
      if (negate) set = set.slice(1);
      out += `[${negate ? '^' : ''}${set.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
}
