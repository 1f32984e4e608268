// Ansible's INI inventory. Lines before any section are ungrouped hosts;
// `[group]` lists hosts (`h1 ansible_host=127.0.0.1 ansible_port=2201 x="a b"`),
// `[group:vars]` holds `key=value` lines, `[group:children]` names subgroups.
// Values are typed like Ansible types them: through Python's literal_eval,
// after shell-like word splitting on host lines (so `x="8080"` is still the
// number 8080, and `x="'8080'"` the string), and as the raw rest of the line
// in :vars sections (so `x=8080` is a number, `x="8080"` a string, `x=yes` the string 'yes').
import { PhxError, type SourceLoc } from '../errors.js';
import { registerSource } from '../yaml-source.js';
import { checkConnectionVar } from './connection-vars.js';
import { InventoryBuilder, type Inventory } from './model.js';
import { iniValue } from './python-literal.js';
import { expandHostDefinition } from './ranges.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

interface Pending {
  loc: SourceLoc;
  kind: 'vars' | 'children';
  parents: string[];
}

export function readIniInventory(text: string, file: string, inv: Inventory): void {
  registerSource(file, text);
  const b = new InventoryBuilder(inv);
  // A group must be declared by [g] or [g:children]; [g:vars] or a mention in
  // [p:children] before that is a promise, checked at the end like Ansible does.
  const declared = new Set<string>(['all', 'ungrouped']);
  const pending = new Map<string, Pending>();
  const childEdges: Array<{ parent: string; child: string; loc: SourceLoc }> = [];
  let group = 'ungrouped';
  let state: 'hosts' | 'vars' | 'children' = 'hosts';

  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    const lineNo = index + 1;
    const indent = rawLine.length - rawLine.trimStart().length;
    const at = (col = 1): SourceLoc => ({ file, line: lineNo, col: indent + col });
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;

    const section = SECTION.exec(line);
    if (section) {
      group = section[1];
      const kind = section[2] ?? 'hosts';
      if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
        throw new PhxError(
          `section [${group}:${kind}] has unknown type '${kind}' (allowed: [${group}], [${group}:vars], [${group}:children])`,
          at(),
        );
      }
      state = kind;
      b.group(group);
      if (kind === 'vars') {
        if (!declared.has(group) && !pending.has(group)) pending.set(group, { loc: at(), kind: 'vars', parents: [] });
      } else {
        declared.add(group);
        if (pending.get(group)?.kind === 'vars') pending.delete(group);
      }
      return;
    }
    if (line.startsWith('[')) {
      throw new PhxError(
        `invalid section header ${line}: expected [group], [group:vars] or [group:children] with no spaces`,
        at(),
      );
    }
    if (line === '---')
      throw new PhxError("'---' starts a YAML document: name the file .yml or .yaml for a YAML inventory", at());

    if (state === 'hosts') readHostLine(b, group, rawLine.slice(indent), at);
    else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) throw new PhxError(`expected key=value in [${group}:vars], got '${line}'`, at());
      const key = line.slice(0, eq).trim();
      const value = iniValue(line.slice(eq + 1).trim());
      checkConnectionVar(key, value, at(eq + 2));
      if (key === 'ansible_group_priority' && !Number.isInteger(typeof value === 'string' ? Number(value) : value)) {
        throw new PhxError(`ansible_group_priority must be an integer, got ${JSON.stringify(value)}`, at(eq + 2));
      }
      b.setGroupVar(group, key, key === 'ansible_group_priority' ? Number(value) : value, at(eq + 2));
    } else {
      const m = GROUP_NAME.exec(line);
      if (!m) throw new PhxError(`expected a group name in [${group}:children], got '${line}'`, at());
      const child = m[1];
      childEdges.push({ parent: group, child, loc: at() });
      if (!declared.has(child)) {
        const p = pending.get(child);
        if (p && p.kind === 'children') p.parents.push(group);
        else if (!p) pending.set(child, { loc: at(), kind: 'children', parents: [group] });
      }
    }
  });

  for (const [name, p] of pending) {
    if (declared.has(name)) continue;
    if (p.kind === 'vars')
      throw new PhxError(
        `section [${name}:vars] is for a group that is never declared: add a [${name}] section`,
        p.loc,
      );
    throw new PhxError(
      `[${p.parents[p.parents.length - 1]}:children] names group '${name}', which is never declared: add a [${name}] section`,
      p.loc,
    );
  }
  for (const e of childEdges) b.child(e.parent, e.child, e.loc);
}

function readHostLine(b: InventoryBuilder, group: string, line: string, at: (col?: number) => SourceLoc): void {
  const words = shellWords(line, at);
  if (words.length === 0) return;
  const [first, ...rest] = words;
  const { names, port } = expandHostDefinition(first.text, at(first.col));
  const vars: Record<string, unknown> = {};
  const locs: Record<string, SourceLoc> = {};
  for (const w of rest) {
    const eq = w.text.indexOf('=');
    if (eq <= 0)
      throw new PhxError(
        `expected key=value after host '${first.text}', got '${w.text}'`,
        at(w.col),
        'quote values that contain spaces: x="a b"',
      );
    const key = w.text.slice(0, eq);
    const value = iniValue(w.text.slice(eq + 1));
    checkConnectionVar(key, value, at(w.col + eq + 1));
    vars[key] = value;
    locs[key] = at(w.col + eq + 1);
  }
  for (const name of names) {
    b.host(name, group);
    if (port !== undefined) b.setHostVar(name, 'ansible_port', port);
    for (const [k, v] of Object.entries(vars)) b.setHostVar(name, k, v, locs[k]);
  }
}

interface Word {
  text: string;
  /** 1-based column where the word starts in the line */
  col: number;
}

/** POSIX shell-like word splitting with `#` comments, as Python's shlex.split(comments=True) does. */
export function shellWords(
  line: string,
  at: (col?: number) => SourceLoc = () => ({ file: '<ini>', line: 1, col: 1 }),
): Word[] {
  const words: Word[] = [];
  let current: Word | undefined;
  let i = 0;
  const start = () => (current ??= { text: '', col: i + 1 });
  const emit = () => {
    if (current) words.push(current);
    current = undefined;
  };
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      emit();
      i++;
    } else if (c === '#') {
      break;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new PhxError('a backslash at the end of the line escapes nothing', at(i + 1));
      start().text += line[i + 1];
      i += 2;
    } else if (c === "'" || c === '"') {
      const open = i;
      start();
      i++;
      for (;;) {
        if (i >= line.length) throw new PhxError(`no closing quotation for the ${c} opened here`, at(open + 1));
        const d = line[i];
        if (d === c) {
          i++;
          break;
        }
        if (c === '"' && d === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          current!.text += line[i + 1];
          i += 2;
          continue;
        }
        current!.text += d;
        i++;
      }
    } else {
      start().text += c;
      i++;
    }
  }
  emit();
  return words;
}
