// blockinfile: a block of lines between two marker lines, with Ansible's
// semantics (lib/ansible/modules/blockinfile.py): the block between existing
// markers is replaced in place; without markers it goes after the last line
// matching `insertafter` / before the last matching `insertbefore` (EOF, BOF),
// or at the end; `state: absent` (or an empty block) removes markers and
// block. Read in the facts round trip, written like copy (one more).
import * as z from 'zod';
import { defineModule, type Plan } from '../src/module.js';
import { modeArg } from '../src/remote/mode.js';
import { accountArg } from '../src/remote/owner.js';
import { overlayPutFacts, putFacts, type PutFacts } from '../src/remote/put-content.js';
import { currentText, planTextEdit } from '../src/remote/text-edit.js';
import { compileUserRegex } from '../src/template/regex.js';
import { editedPath, PATH_ALIASES, pathAliasArgs, requireOnePath, userRegexArg } from '../src/remote/edit-args.js';

const args = () => {
  /** A marker is one line: a line break in it would write a line of the value's choosing. */
  const markerText = z
    .string()
    .refine((v) => !/[\r\n\0]/.test(v), { message: 'a marker is one line: no line breaks or NUL' });
  const insertArg = userRegexArg(['EOF', 'BOF']);
  return z
    .object({
      ...pathAliasArgs,
      state: z.enum(['present', 'absent']).default('present'),
      marker: markerText
        .default('# {mark} ANSIBLE MANAGED BLOCK')
        .describe('the marker line template; {mark} becomes marker_begin / marker_end'),
      block: z.string().optional().describe("the text between the markers (alias: content); '' removes the block"),
      content: z.string().optional(),
      insertafter: insertArg.optional().describe('regex (last matching line), or EOF (default)'),
      insertbefore: insertArg.optional().describe('regex (last matching line), or BOF'),
      create: z.boolean().default(false).describe('create the file when missing'),
      backup: z.boolean().default(false),
      validate: z.string().includes('%s', { message: 'validate must contain %s (the temp file to check)' }).optional(),
      marker_begin: markerText.default('BEGIN'),
      marker_end: markerText.default('END'),
      append_newline: z.boolean().default(false).describe('a blank line after the block unless one is there'),
      prepend_newline: z.boolean().default(false).describe('a blank line before the block unless one is there'),
      owner: accountArg.optional(),
      group: accountArg.optional(),
      mode: modeArg.optional(),
      unsafe_writes: z.boolean().optional().describe('accepted for compatibility; ignored'),
    })
    .strict()
    .superRefine((a, ctx) => {
      requireOnePath(a, ctx);
      if (a.block !== undefined && a.content !== undefined)
        ctx.addIssue({ code: 'custom', path: ['content'], message: 'block and content are aliases: give one' });
      if (a.insertafter !== undefined && a.insertbefore !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['insertbefore'],
          message: 'insertafter and insertbefore are mutually exclusive',
        });
      if (a.marker_begin === a.marker_end && a.marker.includes('{mark}'))
        ctx.addIssue({ code: 'custom', path: ['marker_end'], message: 'marker_begin and marker_end must differ' });
    });
};

type Args = z.infer<ReturnType<typeof args>>;

const pathOf = (a: Args) => editedPath(a);

function splitLines(text: string): string[] {
  return text === '' ? [] : (text.match(/[^\n]*\n|[^\n]+$/g) ?? []);
}

const strip = (l: string) => l.replace(/\n$/, '');

/** Python's `(?m)` at the start of the pattern: Ansible then searches the whole text, not line by line. */
const isMultiline = (src: string) => /^\(\?[a-zA-Z]*m[a-zA-Z]*\)/.test(src);

export function markerLines(a: Args): [string, string] {
  return [a.marker.replaceAll('{mark}', a.marker_begin) + '\n', a.marker.replaceAll('{mark}', a.marker_end) + '\n'];
}

/** The edit itself, pure: text in → text out, as blockinfile.py computes it. */
export function editBlock(original: string, a: Args): string {
  const lines = splitLines(original);
  const [marker0, marker1] = markerLines(a);
  const block = a.block ?? a.content ?? '';
  const present = a.state === 'present';
  let blocklines: string[] = [];
  if (present && block) blocklines = [marker0, ...splitLines(block.endsWith('\n') ? block : block + '\n'), marker1];

  let n0: number | undefined;
  let n1: number | undefined;
  lines.forEach((l, i) => {
    if (l === marker0) n0 = i;
    if (l === marker1) n1 = i;
  });
  let at: number;
  if (n0 === undefined || n1 === undefined) {
    const insertafter = a.insertafter ?? (a.insertbefore === undefined ? 'EOF' : undefined);
    const pattern =
      insertafter !== undefined && insertafter !== 'EOF'
        ? insertafter
        : a.insertbefore !== undefined && a.insertbefore !== 'BOF'
          ? a.insertbefore
          : undefined;
    let found: number | undefined;
    if (pattern !== undefined) {
      const re = compileUserRegex(pattern);
      if (isMultiline(pattern)) {
        const m = re.matcher(original);
        if (m.find()) {
          const upTo = insertafter !== undefined ? m.end() : m.start();
          found = original.slice(0, upTo).split('\n').length - 1;
        }
      } else {
        lines.forEach((l, i) => {
          if (re.matcher(strip(l)).find()) found = i;
        });
      }
      at = found === undefined ? lines.length : insertafter !== undefined ? found + 1 : found;
    } else at = a.insertbefore !== undefined ? 0 : lines.length;
  } else if (n0 < n1) {
    lines.splice(n0, n1 - n0 + 1);
    at = n0;
  } else {
    lines.splice(n1, n0 - n1 + 1);
    at = n1;
  }
  if (at > 0 && !lines[at - 1].endsWith('\n')) lines[at - 1] += '\n';
  if (a.prepend_newline && present && at !== 0 && lines[at - 1] !== '\n') {
    lines.splice(at, 0, '\n');
    at += 1;
  }
  lines.splice(at, 0, ...blocklines);
  if (a.append_newline && present) {
    const after = at + blocklines.length;
    if (after < lines.length && lines[after] !== '\n') lines.splice(after, 0, '\n');
  }
  return lines.join('');
}

export default defineModule<Args, PutFacts>({
  name: 'blockinfile',
  aliases: ['ansible.builtin.blockinfile', 'ansible.legacy.blockinfile'],
  pathArgs: PATH_ALIASES,
  description: 'Ensure a block of lines between marker lines is in a file (or not)',
  args,
  facts: (ctx, a) =>
    putFacts(ctx, { dest: pathOf(a), owner: a.owner, group: a.group, diff: ctx.diff, readContent: true }),
  overlay: (f, _a, predicted) => overlayPutFacts(f, predicted),
  plan(f, a): Plan {
    const path = pathOf(a);
    const block = a.block ?? a.content ?? '';
    const [marker0, marker1] = markerLines(a);
    // a marker line inside the block would be read as the block's end on the next run
    if (splitLines(block.endsWith('\n') ? block : block + '\n').some((l) => l === marker0 || l === marker1))
      return { changes: [], fail: `the block of ${path} contains one of its marker lines` };
    const cur = currentText(f, path);
    if (cur && 'fail' in cur) return { changes: [], fail: cur.fail, result: cur.rc ? { rc: cur.rc } : {} };
    if (!cur) {
      if (a.state === 'absent') return { changes: [], msg: `File ${path} not present` };
      if (!a.create) return { changes: [], fail: `Path ${path} does not exist !`, result: { rc: 257 } };
    }
    const before = cur?.text ?? '';
    const after = editBlock(before, a);
    const blockLines = a.state === 'present' && block !== '';
    const editMsg =
      after === before && cur ? '' : !cur ? 'File created' : blockLines ? 'Block inserted' : 'Block removed';
    return planTextEdit(f, {
      path,
      before,
      after,
      editMsg,
      owner: a.owner,
      group: a.group,
      mode: a.mode,
      backup: a.backup,
      validate: a.validate,
      create: a.create,
    });
  },
});
