// lineinfile: makes sure one line is in a file (or is not), with Ansible's
// semantics: `regexp` replaces the LAST matching line; without a match the
// line goes after `insertafter` / before `insertbefore` (regex, EOF, BOF) or
// at the end; an identical line already present means no change. The file is
// read in the facts round trip and written back like copy (one more).
import * as z from 'zod';
import { defineModule, type Plan } from '../src/module.js';
import { formatMode, modeArg } from '../src/remote/mode.js';
import { accountArg } from '../src/remote/owner.js';
import type { RE2JS } from 're2js';
import { compileUserRegex } from '../src/template/regex.js';
import { overlayPutFacts, putFacts, putPlan, READ_MAX_BYTES, type PutFacts } from '../src/remote/put-content.js';
import { editedPath, PATH_ALIASES, pathAliasArgs, requireOnePath } from '../src/remote/edit-args.js';

/**
 * The playbook's patterns (Python syntax) run on RE2, as the regex filters do
 * (src/template/regex.ts): linear time on every line of the host's file, so a
 * file crafted against a backtracking pattern cannot hang the run.
 */
function compile(src: string): RE2JS {
  return compileUserRegex(src);
}

/** A line's match, by group number or name (undefined: the group did not take part). */
type Groups = (key: number | string) => string | undefined;

function search(re: RE2JS, text: string): Groups | null {
  const m = re.matcher(text);
  if (!m.find()) return null;
  return (key) => {
    try {
      return m.group(key) ?? undefined;
    } catch {
      return undefined; // no such group: Python would raise; the line gets ''
    }
  };
}

/** null when `src` compiles; else why not. */
function regexProblem(src: string): string | null {
  try {
    compile(src);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const args = () => {
  const regexArg = z.string().superRefine((v, ctx) => {
    const problem = regexProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
  return z
    .object({
      ...pathAliasArgs,
      line: z.string().optional().describe('the line (required with state present)'),
      regexp: regexArg
        .optional()
        .describe('Python-style regex: the last matching line is replaced (present) or all are removed (absent)'),
      search_string: z.string().optional().describe('literal text instead of regexp'),
      state: z.enum(['present', 'absent']).default('present'),
      insertafter: z.string().optional().describe('regex, or EOF (default)'),
      insertbefore: z.string().optional().describe('regex, or BOF'),
      firstmatch: z
        .boolean()
        .default(false)
        .describe('insertafter/insertbefore use the first matching line, not the last'),
      backrefs: z
        .boolean()
        .default(false)
        .describe('expand \\1 / \\g<name> in line; do nothing when regexp does not match'),
      create: z.boolean().default(false).describe('create the file when missing'),
      backup: z.boolean().default(false),
      owner: accountArg.optional(),
      group: accountArg.optional(),
      mode: modeArg.optional(),
      validate: z.string().includes('%s', { message: 'validate must contain %s (the temp file to check)' }).optional(),
      unsafe_writes: z.boolean().optional().describe('accepted for compatibility; ignored'),
    })
    .strict()
    .superRefine((a, ctx) => {
      requireOnePath(a, ctx);
      if (a.state === 'present' && a.line === undefined)
        ctx.addIssue({ code: 'custom', path: ['line'], message: 'line is required with state present' });
      if (a.state === 'absent' && a.line === undefined && a.regexp === undefined && a.search_string === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['regexp'],
          message: 'one of line, regexp, search_string is required with state absent',
        });
      }
      if (a.regexp !== undefined && a.search_string !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['search_string'],
          message: 'regexp and search_string are mutually exclusive',
        });
      if (a.insertafter !== undefined && a.insertbefore !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['insertbefore'],
          message: 'insertafter and insertbefore are mutually exclusive',
        });
      if (a.backrefs && a.regexp === undefined)
        ctx.addIssue({ code: 'custom', path: ['backrefs'], message: 'backrefs needs regexp' });
      for (const k of ['insertafter', 'insertbefore'] as const) {
        const v = a[k];
        if (v === undefined || v === 'EOF' || v === 'BOF') continue;
        const problem = regexProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', path: [k], message: problem });
      }
    });
};

type Args = z.infer<ReturnType<typeof args>>;

const pathOf = (a: Args) => editedPath(a);

/** Python's match.expand: \1, \g<1>, \g<name>. */
function expand(template: string, groups: Groups): string {
  return template.replace(
    /\\(?:g<(\w+)>|(\d{1,2}))|\\\\/g,
    (all, named: string | undefined, num: string | undefined) => {
      if (all === '\\\\') return '\\';
      const key = named ?? num!;
      return groups(/^\d+$/.test(key) ? Number(key) : key) ?? '';
    },
  );
}

const strip = (l: string) => l.replace(/[\r\n]+$/, '');

/** The edit itself, pure: lines in → lines out, with Ansible's message. */
export function editLines(lines: string[], a: Args): { lines: string[]; msg: string; found?: number } {
  const out = [...lines];
  const re = a.regexp !== undefined ? compile(a.regexp) : undefined;
  const noGroups: Groups = () => undefined;
  const matches = (l: string): Groups | null =>
    re ? search(re, strip(l)) : a.search_string !== undefined && strip(l).includes(a.search_string) ? noGroups : null;

  if (a.state === 'absent') {
    const kept = out.filter((l) => !(re || a.search_string !== undefined ? matches(l) : strip(l) === a.line));
    const found = out.length - kept.length;
    return { lines: kept, msg: found ? `${found} line(s) removed` : '', found };
  }

  const line = a.line!;
  let index0 = -1;
  let index1 = -1;
  let match: Groups | null = null;
  if (re || a.search_string !== undefined) {
    out.forEach((l, i) => {
      const m = matches(l);
      if (m) [index0, match] = [i, m];
    });
  }
  const insRegex =
    a.insertafter && a.insertafter !== 'EOF'
      ? compile(a.insertafter)
      : a.insertbefore && a.insertbefore !== 'BOF'
        ? compile(a.insertbefore)
        : undefined;
  if (!match) {
    for (let i = 0; i < out.length; i++) {
      if (strip(out[i]) === line) index0 = i;
      else if (insRegex && insRegex.matcher(strip(out[i])).find()) {
        index1 = a.insertafter !== undefined ? i + 1 : i;
        if (a.firstmatch) break;
      }
    }
  }
  if (index0 !== -1) {
    const newLine = (a.backrefs && match ? expand(line, match) : line) + '\n';
    if (out[index0] !== newLine) {
      out[index0] = newLine;
      return { lines: out, msg: 'line replaced' };
    }
    return { lines: out, msg: '' };
  }
  if (a.backrefs) return { lines: out, msg: '' };
  if (a.insertbefore === 'BOF' || a.insertafter === 'BOF') {
    out.unshift(line + '\n');
  } else if (a.insertafter === 'EOF' || index1 === -1) {
    if (out.length > 0 && !/[\r\n]$/.test(out[out.length - 1])) out[out.length - 1] += '\n';
    out.push(line + '\n');
  } else if (a.insertafter !== undefined) {
    if (index1 === out.length) {
      if (strip(out[index1 - 1]) === line) return { lines: out, msg: '' };
      out.push(line + '\n');
    } else {
      if (strip(out[index1]) === line) return { lines: out, msg: '' };
      out.splice(index1, 0, line + '\n');
    }
  } else {
    out.splice(index1, 0, line + '\n');
  }
  return { lines: out, msg: 'line added' };
}

function splitLines(text: string): string[] {
  return text === '' ? [] : (text.match(/[^\n]*\n|[^\n]+$/g) ?? []);
}

export default defineModule<Args, PutFacts>({
  name: 'lineinfile',
  aliases: ['ansible.builtin.lineinfile', 'ansible.legacy.lineinfile'],
  pathArgs: PATH_ALIASES,
  readAhead: 'facts',
  description: 'Ensure a line is in a file (or not), replacing the last regexp match',
  args,
  facts: (ctx, a) =>
    putFacts(ctx, { dest: pathOf(a), owner: a.owner, group: a.group, diff: ctx.diff, readContent: true }),
  overlay: (f, _a, predicted) => overlayPutFacts(f, predicted),
  plan(f, a): Plan {
    const path = pathOf(a);
    const cur = f.paths[0];
    if (cur.exists && cur.type === 'directory')
      return { changes: [], fail: `Path ${path} is a directory !`, result: { rc: 256 } };
    if (!cur.exists && !a.create) {
      if (a.state === 'absent') return { changes: [], result: { found: 0, backup: '' }, msg: 'file not present' };
      return { changes: [], fail: `Destination ${path} does not exist !`, result: { rc: 257 } };
    }
    if (cur.exists && cur.content === undefined)
      return { changes: [], fail: `${path} is larger than ${READ_MAX_BYTES} bytes or unreadable` };
    const before = cur.content?.toString('utf8') ?? '';
    const edit = editLines(splitLines(before), a);
    const after = edit.lines.join('');
    if (!cur.exists && a.state === 'absent')
      return { changes: [], result: { found: 0, backup: '' }, msg: 'file not present' };
    const put = putPlan(f, {
      dest: path,
      owner: a.owner,
      group: a.group,
      diff: true,
      content: Buffer.from(after, 'utf8'),
      mode: a.mode,
      backup: a.backup,
      force: true,
      validate: a.validate,
      createParent: a.create,
    });
    if (put.fail) return put;
    const r = put.result!;
    const attrsDiffer = cur.exists && (r.mode !== formatMode(cur.mode!) || r.uid !== cur.uid || r.gid !== cur.gid);
    const attrsMsg = 'ownership, perms or SE linux context changed';
    const msg =
      after === before && cur.exists
        ? attrsDiffer
          ? attrsMsg
          : ''
        : attrsDiffer && edit.msg
          ? `${edit.msg} and ${attrsMsg}`
          : edit.msg;
    const result: Record<string, unknown> = { backup: r.backup_file ?? '' };
    if (edit.found !== undefined) result.found = edit.found;
    return { changes: put.changes, result, msg, diff: put.diff, predict: put.predict };
  },
});
