// pam_limits: one `<domain> <type> <item> <value>` line of a limits.conf, with
// community.general's semantics (plugins/modules/pam_limits.py, main()): lines
// starting with `#`, blank lines and lines that are not four fields are kept as
// they are; the lines whose domain, type and item match get the value (use_max /
// use_min keep the larger / smaller), written as `domain\ttype\titem\tvalue\t#comment`;
// without a match that line is appended. Read in the facts round trip, written
// like copy (temp file and rename), then re-read (verify).
import * as z from 'zod';
import { posix } from 'node:path';
import { defineModule, type ModuleContext, type Plan } from '../src/module.js';
import { oneLine } from '../src/encode/schemas.js';
import { overlayPutFacts, putFacts, putPlan, READ_MAX_BYTES, type PutFacts } from '../src/remote/put-content.js';

/** pam_limits.py main(): `pam_items`, the limit_item choices. */
export const PAM_ITEMS = [
  'core',
  'data',
  'fsize',
  'memlock',
  'nofile',
  'rss',
  'stack',
  'cpu',
  'nproc',
  'as',
  'maxlogins',
  'maxsyslogins',
  'priority',
  'locks',
  'sigpending',
  'msgqueue',
  'nice',
  'rtprio',
  'chroot',
] as const;

const DEFAULT_DEST = '/etc/security/limits.conf';
const UNLIMITED = new Set(['unlimited', 'infinity', '-1']);

/** Python's `\s` on str (str.isspace): the module collapses runs of these to one blank and splits fields on it. */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPACE_RUN = new RegExp(`[${PY_SPACE}]+`, 'g');
const HAS_PY_SPACE = new RegExp(`[${PY_SPACE}]`);

/** What Python's int() accepts here (ASCII digits, a sign, `_` between digits; blanks are refused earlier). */
const PY_INT = /^[+-]?[0-9]+(?:_[0-9]+)*$/;
const pyInt = (s: string): bigint => BigInt(s.replace(/_/g, ''));

/** Python's repr() of a str, as the module's messages show values (%r). */
function pyRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  return q + s.replaceAll('\\', '\\\\').replaceAll(q, `\\${q}`) + q;
}

/** pam_limits.py _assert_is_valid_value(): why `value` is not a valid value for `item`, or undefined. */
export function valueProblem(item: string, value: string): string | undefined {
  if (item === 'nice' || item === 'priority') {
    const valid = PY_INT.test(value) && pyInt(value) >= -20n && pyInt(value) <= 19n;
    if (!valid)
      return (
        `Value of ${pyRepr(value)} for item ${pyRepr(item)} is invalid. Value must be a number in the range -20 to 19 inclusive. ` +
        'Refer to the limits.conf(5) manual pages for more details.'
      );
    return undefined;
  }
  // str.isdigit(), on ASCII digits only (Python would also take '²', which int() then refuses)
  if (UNLIMITED.has(value) || /^[0-9]+$/.test(value)) return undefined;
  return (
    `Value of ${pyRepr(value)} for item ${pyRepr(item)} is invalid. Value must either be 'unlimited', 'infinity' or -1, all of ` +
    'which indicate no limit, or a limit of 0 or larger. Refer to the limits.conf(5) manual pages for more details.'
  );
}

/** A domain is the line's first field: a blank would split it, `#` would start a comment, a line break a new line. */
function domainProblem(v: string): string | undefined {
  if (v === '') return 'must not be empty';
  if (HAS_PY_SPACE.test(v)) return 'must be one field: no blanks or line breaks';
  if (v.includes('#')) return 'must not contain "#" (the rest of the line would be a comment)';
  if (v.includes('\0')) return 'must not contain a NUL character';
  return undefined;
}

const args = () =>
  z
    .object({
      domain: z
        .string()
        .check((c) => {
          const why = domainProblem(c.value);
          if (why) c.issues.push({ code: 'custom', message: why, input: c.value });
        })
        .describe('a user name, @group, %group, wildcard, or uid/gid range (the first field)'),
      limit_type: z.enum(['hard', 'soft', '-']),
      limit_item: z.enum(PAM_ITEMS),
      value: z
        .union([z.string(), z.number()])
        .superRefine((v, c) => {
          // Python keeps a YAML integer exact and writes a float as "1.0" (then refused); JS would write neither
          if (typeof v === 'number' && !Number.isSafeInteger(v))
            c.addIssue({ code: 'custom', message: 'a number with a fraction or beyond 2^53 is not exact: quote it' });
        })
        .transform(String)
        .describe('a number, unlimited/infinity/-1; for nice and priority -20 to 19'),
      use_max: z.boolean().default(false).describe('keep the file value when it is larger'),
      use_min: z.boolean().default(false).describe('keep the file value when it is smaller'),
      backup: z.boolean().default(false).describe('keep the old file as dest.<pid>.<time>~ when it changes'),
      dest: z.string().min(1).default(DEFAULT_DEST),
      comment: oneLine().default('').describe('written after the value as `\\t#comment`'),
    })
    .strict()
    .superRefine((a, ctx) => {
      if (a.use_max && a.use_min)
        ctx.addIssue({
          code: 'custom',
          path: ['use_min'],
          message: 'Cannot use use_min and use_max at the same time.',
        });
      // (zod runs this even when a field failed: value is then not transformed)
      const bad = typeof a.value === 'string' ? valueProblem(a.limit_item, a.value) : undefined;
      if (bad) ctx.addIssue({ code: 'custom', path: ['value'], message: bad });
    });

type Args = z.infer<ReturnType<typeof args>>;

function splitLines(text: string): string[] {
  return text === '' ? [] : (text.match(/[^\n]*\n|[^\n]+$/g) ?? []);
}

export type LimitsEdit = { text: string; msg: string } | { fail: string };

/**
 * The edit, pure: pam_limits.py main()'s loop over the file's lines, the same
 * output for the same input, with one deliberate difference: a last line without
 * its newline gets one before a new line is appended (the module would join the
 * two into one line).
 */
export function editLimits(original: string, a: Args): LimitsEdit {
  const out: string[] = [];
  // as the module: without a comment from the task, that of the first line with a "#" after its start is reused
  let comment = a.comment;
  let found = false;
  let msg = '';
  let newValue = a.value;
  const lineOf = (v: string) => {
    if (comment) comment = '\t#' + comment;
    return `${a.domain}\t${a.limit_type}\t${a.limit_item}\t${v}${comment}\n`;
  };
  for (const line of splitLines(original)) {
    if (line.startsWith('#')) {
      out.push(line);
      continue;
    }
    const collapsed = line.replace(PY_SPACE_RUN, ' ').replace(/^ | $/g, '');
    if (!collapsed) {
      out.push(line);
      continue;
    }
    const hash = line.indexOf('#');
    const oldComment = hash >= 0 ? line.slice(hash + 1) : '';
    if (!comment) comment = oldComment;
    const fields = collapsed.split('#')[0].replace(/ $/, '').split(' ');
    if (fields.length !== 4) {
      out.push(line);
      continue;
    }
    const [domain, type, item, actual] = fields;
    const bad = valueProblem(item, actual);
    if (bad) return { fail: `Invalid configuration found in '${a.dest}'. ${bad}` };
    if (domain !== a.domain || type !== a.limit_type || item !== a.limit_item) {
      out.push(line);
      continue;
    }
    found = true;
    if (a.value === actual) {
      msg = line;
      out.push(line);
      continue;
    }
    // the module tests line_type (never nice/priority) where it means line_item: -1 is "unlimited" for every item
    const actualUnlimited = UNLIMITED.has(actual);
    const valueUnlimited = UNLIMITED.has(a.value);
    if (a.use_max) {
      if (actualUnlimited) newValue = actual;
      else if (valueUnlimited) newValue = a.value;
      else newValue = String(pyInt(a.value) > pyInt(actual) ? pyInt(a.value) : pyInt(actual));
    }
    if (a.use_min) {
      if (actualUnlimited && valueUnlimited) newValue = actual;
      else if (actualUnlimited) newValue = a.value;
      else if (valueUnlimited) newValue = actual;
      else newValue = String(pyInt(a.value) < pyInt(actual) ? pyInt(a.value) : pyInt(actual));
    }
    if (newValue !== actual) {
      msg = lineOf(newValue);
      out.push(msg);
    } else {
      msg = line;
      out.push(line);
    }
  }
  if (!found) {
    if (out.length > 0 && !out[out.length - 1].endsWith('\n')) out[out.length - 1] += '\n';
    msg = lineOf(newValue);
    out.push(msg);
  }
  return { text: out.join(''), msg };
}

/** The module reads the files back in text mode for its diff: universal newlines. */
const textMode = (s: string) => s.replace(/\r\n?/g, '\n');

/** The file's state, and whether the user the task runs as may write it (or its directory, when it is missing). */
type Facts = PutFacts & { writable: boolean };

/** pam_limits.py main() asks os.access(W_OK) of the file, or of its directory when it is missing; root always may. */
async function limitsFacts(ctx: ModuleContext, a: Args): Promise<Facts> {
  // the plan checks the parent's type whenever dest is missing, which check mode's predictions may make it
  const f = await putFacts(ctx, { dest: a.dest, diff: ctx.diff, readContent: true, parentState: true });
  if (f.me.uid === 0) return { ...f, writable: true };
  const target = f.paths[0].exists ? a.dest : posix.dirname(a.dest);
  const r = await ctx.run(['test', '-w', target], { okExit: [0, 1] });
  return { ...f, writable: r.rc === 0 };
}

export default defineModule<Args, Facts>({
  name: 'pam_limits',
  aliases: ['community.general.pam_limits'],
  description: 'Set one limit (domain, type, item, value) in a PAM limits.conf',
  args,
  facts: limitsFacts,
  overlay(f, _a, predicted) {
    const seen = overlayPutFacts(f, predicted);
    // a file earlier tasks would create was not there to ask: its directory was
    return { ...seen, writable: f.writable || seen.paths[0].exists !== f.paths[0].exists };
  },
  plan(f, a): Plan {
    const [cur, parent] = f.paths;
    if (cur.exists && cur.type !== 'file')
      return { changes: [], fail: `${a.dest} is a ${cur.type === 'link' ? 'symlink (not followed)' : cur.type}` };
    if (cur.exists && !f.writable) return { changes: [], fail: `${a.dest} is not writable. Use sudo` };
    if (!cur.exists && (!parent.exists || parent.type !== 'directory' || !f.writable))
      return {
        changes: [],
        fail: `directory ${posix.dirname(a.dest)} is not writable (check presence, access rights, use sudo)`,
      };
    if (cur.exists && cur.content === undefined)
      return { changes: [], fail: `${a.dest} is larger than ${READ_MAX_BYTES} bytes or unreadable` };
    const before = cur.content?.toString('utf8') ?? '';
    if (cur.content && !Buffer.from(before, 'utf8').equals(cur.content))
      return { changes: [], fail: `${a.dest} is not UTF-8 text` };
    const edit = editLimits(before, a);
    if ('fail' in edit) return { changes: [], fail: edit.fail };
    const put = putPlan(f, {
      dest: a.dest,
      diff: true,
      content: Buffer.from(edit.text, 'utf8'),
      backup: a.backup,
      force: true,
    });
    if (put.fail) return put;
    const result: Record<string, unknown> = {};
    if (typeof put.result?.backup_file === 'string') result.backup_file = put.result.backup_file;
    return {
      changes: put.changes,
      result,
      msg: edit.msg,
      diff: { before: textMode(before), after: textMode(edit.text) },
      predict: put.predict,
    };
  },
  verify: true,
});
