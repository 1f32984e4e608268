// A pve-firewall file (/etc/pve/firewall/<vmid>.fw, cluster.fw) as lines, each placed in its section the way
// generic_fw_config_parser (proxmox/pve-firewall src/PVE/Firewall.pm) places it: lines are trimmed of blanks,
// `#` lines and blank lines are skipped, `[OPTIONS]`, `[ALIASES]`, `[RULES]`, `[IPSET name]` (and in
// cluster.fw `[group name]`) start a section, case-insensitively; a line before any section is ignored.
// Edits touch only the lines they are about: every other line (other sections, comments, lines pve-firewall
// cannot parse) is written back byte for byte.
import { printFwOption, printFwRule, type FwRule } from '../encode/fw-rule.js';
import { parseFwOptionLine, sameOptionValue } from './fw-options.js';
import { MAX_GROUP_NAME_LENGTH, parseFwRuleLine, sameRule, sameRuleIdentity, type FwFileKind } from './fw-rule.js';

export type FwSection = 'options' | 'aliases' | 'rules' | 'group' | 'ipset';

export interface FwLine {
  /** the line as in the file, without its newline */
  text: string;
  /** a section header: the section it starts (undefined: a line of the section it is in) */
  header?: FwSection;
  /** the section it belongs to (for a header: the one it starts); undefined before any or after a bad header */
  section?: FwSection;
  /** the group or ipset name of its section */
  name?: string;
  /** a `#` line or a blank line: not content */
  skip: boolean;
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]+$/;

/** The trimmed text the parser reads (`^\h*(.*?)\h*$`). */
export const trimmed = (text: string) => text.replace(/^[ \t]+|[ \t]+$/g, '');

function classify(text: string, kind: FwFileKind): { header?: FwSection; name?: string; bad?: true } | undefined {
  const t = trimmed(text);
  if (/^\[options\]$/i.test(t)) return { header: 'options' };
  if (/^\[aliases\]$/i.test(t)) return { header: 'aliases' };
  if (/^\[rules\]$/i.test(t)) return { header: 'rules' };
  const named = /^\[(group|ipset)\s+(\S+)\]\s*(?:#\s*(.*?)\s*)?$/i.exec(t);
  if (named && (named[1].toLowerCase() === 'ipset' || kind === 'cluster')) {
    const header = named[1].toLowerCase() as 'group' | 'ipset';
    const name = named[2].toLowerCase();
    const max = header === 'group' ? MAX_GROUP_NAME_LENGTH : 64;
    // a bad name: the parser warns and leaves every following line without a section
    if (name.length > max || !NAME_RE.test(name)) return { bad: true };
    return { header, name };
  }
  return undefined;
}

/** The file's lines, each in its section. A final newline makes no empty last line. */
export function parseFwFile(text: string, kind: FwFileKind): FwLine[] {
  const raw = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  let section: FwSection | undefined;
  let name: string | undefined;
  return raw.map((line) => {
    const t = trimmed(line);
    if (t === '' || /^\s*$/.test(t) || t.startsWith('#')) return { text: line, section, name, skip: true };
    const c = classify(line, kind);
    if (c?.bad) {
      [section, name] = [undefined, undefined];
      return { text: line, skip: false };
    }
    if (c?.header) {
      [section, name] = [c.header, c.name];
      return { text: line, header: c.header, section, name, skip: false };
    }
    return { text: line, section, name, skip: false };
  });
}

export function renderFwFile(lines: readonly FwLine[]): string {
  return lines.length ? lines.map((l) => l.text).join('\n') + '\n' : '';
}

/** The names of the file's `[IPSET …]`, `[group …]` sections and its aliases (lower-cased, as the parser keys them). */
export function fwNames(lines: readonly FwLine[]): { groups: Set<string>; ipsets: Set<string>; aliases: Set<string> } {
  const out = { groups: new Set<string>(), ipsets: new Set<string>(), aliases: new Set<string>() };
  for (const l of lines) {
    if (l.header === 'group') out.groups.add(l.name!);
    if (l.header === 'ipset') out.ipsets.add(l.name!);
    if (!l.header && !l.skip && l.section === 'aliases') {
      const m = /^(\S+)\s(\S+)/.exec(trimmed(l.text));
      if (m) out.aliases.add(m[1].toLowerCase());
    }
  }
  return out;
}

const isContent = (l: FwLine, s: FwSection) => l.section === s && !l.header && !l.skip;

/** The rules of [RULES] (all such sections, in order), each with its line; undefined rule: not parsable. */
export function fwRules(lines: readonly FwLine[]): Array<{ line: FwLine; rule?: FwRule; error?: string }> {
  return lines
    .filter((l) => isContent(l, 'rules'))
    .map((line) => {
      const p = parseFwRuleLine(trimmed(line.text));
      return 'rule' in p ? { line, rule: p.rule } : { line, error: p.error };
    });
}

/** The options as pve-firewall reads them (the last line of a key wins; unparsable lines are ignored). */
export function fwOptions(lines: readonly FwLine[], kind: FwFileKind): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    if (!isContent(l, 'options')) continue;
    const o = parseFwOptionLine(trimmed(l.text), kind);
    if (o?.value !== undefined) out[o.key] = o.value;
  }
  return out;
}

/** Where new lines of a section go: after its last content line, else after its header and a blank line. */
function appendPoint(lines: FwLine[], header: FwLine): number {
  const start = lines.indexOf(header);
  let at = start + 1;
  for (let i = start + 1; i < lines.length && !lines[i].header; i++) {
    if (!lines[i].skip) at = i + 1;
  }
  if (at === start + 1 && lines[at] !== undefined && lines[at].skip && trimmed(lines[at].text) === '') at++;
  return at;
}

const line = (text: string, section: FwSection): FwLine => ({ text, section, skip: false });
const blank = (section?: FwSection): FwLine => ({ text: '', section, skip: true });

/** Inserts a new section (header, blank, body, blank) where save_*_conf would put it. */
function newSection(lines: FwLine[], section: 'options' | 'rules', body: FwLine[]): void {
  const header = section === 'options' ? '[OPTIONS]' : '[RULES]';
  const block = [{ text: header, header: section, section, skip: false }, blank(section), ...body];
  if (section === 'options') {
    // format_options comes first in the file
    lines.splice(0, 0, ...block, blank(section));
    return;
  }
  // [RULES] comes after the aliases and ipsets, before cluster.fw's groups
  const group = lines.findIndex((l) => l.header === 'group');
  if (group >= 0) {
    lines.splice(group, 0, ...block, blank(section));
    return;
  }
  if (lines.length && trimmed(lines[lines.length - 1].text) !== '') lines.push(blank());
  lines.push(...block);
}

/** Sets and removes options in place. Returns what changed (key → new value, null: removed). */
export function editOptions(
  lines: FwLine[],
  kind: FwFileKind,
  want: Record<string, string | null>,
): Record<string, string | null> {
  const changed: Record<string, string | null> = {};
  const append: FwLine[] = [];
  for (const [key, value] of Object.entries(want)) {
    const mine = lines.filter((l) => isContent(l, 'options') && parseFwOptionLine(trimmed(l.text), kind)?.key === key);
    if (value === null) {
      if (!mine.length) continue;
      for (const l of mine) lines.splice(lines.indexOf(l), 1);
      changed[key] = null;
      continue;
    }
    const last = mine[mine.length - 1];
    const have = last && parseFwOptionLine(trimmed(last.text), kind)?.value;
    // the parser keeps the last value of a key: a right last line is what pve-firewall uses
    if (have !== undefined && sameOptionValue(key, kind, have, value)) continue;
    changed[key] = value;
    if (last) {
      for (const l of mine.slice(0, -1)) lines.splice(lines.indexOf(l), 1);
      last.text = printFwOption(key, value);
    } else append.push(line(printFwOption(key, value), 'options'));
  }
  if (append.length) {
    const header = lines.find((l) => l.header === 'options');
    if (header) lines.splice(appendPoint(lines, header), 0, ...append);
    else newSection(lines, 'options', append);
  }
  return changed;
}

export interface RulesChange {
  added: string[];
  removed: string[];
  /** old line → new line (enable, log or comment of a rule that stays) */
  updated: Array<{ from: string; to: string }>;
}

/** Puts rule lines in the file: at `before` (a line of the file), else at the end of [RULES] (made if missing). */
function insertRules(lines: FwLine[], texts: FwLine[], before?: FwLine): void {
  if (!texts.length) return;
  if (before) {
    lines.splice(lines.indexOf(before), 0, ...texts);
    return;
  }
  const header = lines.find((l) => l.header === 'rules');
  if (header) lines.splice(appendPoint(lines, header), 0, ...texts);
  else newSection(lines, 'rules', texts);
}

/** exact: [RULES] holds exactly `want`, in order; unchanged when the rules it holds already are those. */
export function editRulesExact(lines: FwLine[], want: readonly FwRule[]): RulesChange {
  const have = fwRules(lines);
  const same = have.length === want.length && have.every((h, i) => h.rule && sameRule(h.rule, want[i]));
  if (same) return { added: [], removed: [], updated: [] };
  const first = have[0]?.line;
  const at = first ? lines.indexOf(first) : -1;
  for (const h of have) lines.splice(lines.indexOf(h.line), 1);
  // a rule already there keeps its line as written; the others are written as format_rules would
  const reused = new Set<FwLine>();
  const texts = want.map((r) => {
    const old = have.find((h) => !reused.has(h.line) && h.rule && sameRule(h.rule, r));
    if (!old) return line(printFwRule(r), 'rules');
    reused.add(old.line);
    return old.line;
  });
  if (at >= 0) lines.splice(at, 0, ...texts);
  else insertRules(lines, texts);
  return {
    added: texts.filter((t) => !reused.has(t)).map((t) => t.text),
    removed: have.filter((h) => !reused.has(h.line)).map((h) => trimmed(h.line.text)),
    updated: [],
  };
}

/**
 * present: each wanted rule is in [RULES]; the others stay where they are. A rule found with another
 * enable, log or comment is updated in its place; a missing one goes right after the wanted rule before it,
 * or (the first) before the first wanted rule already there, or at the end of [RULES].
 */
export function editRulesPresent(lines: FwLine[], want: readonly FwRule[]): RulesChange {
  const have = fwRules(lines);
  const used = new Set<FwLine>();
  const placed: Array<FwLine | undefined> = want.map((w) => {
    const exact = have.find((h) => !used.has(h.line) && h.rule && sameRule(h.rule, w));
    const found = exact ?? have.find((h) => !used.has(h.line) && h.rule && sameRuleIdentity(h.rule, w));
    if (found) used.add(found.line);
    return found?.line;
  });
  const change: RulesChange = { added: [], removed: [], updated: [] };
  want.forEach((w, i) => {
    const text = printFwRule(w);
    const at = placed[i];
    if (at) {
      const h = have.find((x) => x.line === at)!;
      if (!sameRule(h.rule!, w)) {
        change.updated.push({ from: trimmed(at.text), to: text });
        at.text = text;
      }
      return;
    }
    const fresh = line(text, 'rules');
    const prev = i > 0 ? placed[i - 1] : undefined;
    if (prev) lines.splice(lines.indexOf(prev) + 1, 0, fresh);
    else insertRules(lines, [fresh], i === 0 ? placed.find((p) => p !== undefined) : undefined);
    placed[i] = fresh;
    change.added.push(text);
  });
  return change;
}
