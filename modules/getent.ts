// getent: Ansible's ansible.builtin.getent (lib/ansible/modules/getent.py): one
// `getent` database (or one key of it) read into the host's facts as
// `getent_<database>`: each record's first field is the key, the rest its list.
// Read-only: never changed, also run in check mode. What the host prints is data:
// the facts are unsafe text, never rendered as templates.
import * as z from 'zod';
import { defineModule, ModuleError, type ModuleContext } from '../src/module.js';
import type { ExecResult } from '../src/connection/types.js';
import { markUnsafe } from '../src/unsafe.js';

// a database name becomes part of a variable name (getent_<database>): a word, as getent's own
const word = () => z.string().regex(/^[A-Za-z0-9_]+$/, 'a getent database name: letters, digits and _');

const args = () =>
  z
    .object({
      database: word().describe('the database: passwd, group, shadow, hosts, services, …'),
      key: z
        .union([z.string(), z.number()])
        .transform(String)
        .optional()
        .describe('one key of the database (a name, a number); default: every record'),
      service: z
        .string()
        .regex(/^[^\s\0-]\S*$/, 'a service name (no blanks, not starting with -)')
        .optional()
        .describe("getent -s: the NSS service to ask instead of nsswitch.conf's"),
      split: z
        .string()
        .optional()
        .describe("the field separator; default ':' for passwd, shadow, group, gshadow, else runs of blanks"),
      fail_key: z.boolean().default(true).describe('fail when the key is not in the database'),
    })
    .strict()
    .superRefine((a, ctx) => {
      if (a.split === '')
        ctx.addIssue({
          code: 'custom',
          path: ['split'],
          message: 'Invalid split value. The value must be a non-empty string',
        });
      if (a.key?.includes('\0')) ctx.addIssue({ code: 'custom', path: ['key'], message: 'a key cannot hold NUL' });
    });

type Args = z.infer<ReturnType<typeof args>>;

const COLON = ['passwd', 'shadow', 'group', 'gshadow'];

// Python's str.splitlines(): these all end a line (\x1c-\x1e are the file, group and record separators)
// eslint-disable-next-line no-control-regex -- matching these control characters is the point
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** getent.py main(): each line split (str.split(sep), or on runs of blanks without one); a key seen again becomes a list of records. */
export function parseGetent(stdout: string, split: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seen = new Map<string, number>();
  const lines = stdout.split(LINE_BREAK);
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    const record = split === undefined ? line.split(/\s+/).filter((f) => f !== '') : line.split(split);
    // Python's ''.split() is [], and record[0] then an IndexError: a blank line is no record
    if (record.length === 0) continue;
    const [key, ...rest] = record;
    const n = seen.get(key) ?? 0;
    if (n === 0) out[key] = rest;
    else if (n === 1) out[key] = [out[key], rest];
    else (out[key] as unknown[]).push(rest);
    seen.set(key, n + 1);
  }
  return out;
}

const FAILURES: Record<number, string> = {
  1: 'Missing arguments, or database unknown.',
  2: 'One or more supplied key could not be found in the database.',
  3: 'Enumeration not supported on this database.',
};

interface Facts {
  result: ExecResult;
}

async function readFacts(ctx: ModuleContext, a: Args): Promise<Facts> {
  // the options first and `--`: a key is an operand even when it starts with `-`
  const argv = ['getent', ...(a.service !== undefined ? ['-s', a.service] : []), '--', a.database];
  if (a.key !== undefined) argv.push(a.key);
  const result = await ctx.run(argv, { okExit: 'any' });
  if (result.rc === 127) throw new ModuleError(`getent: not found on ${ctx.host}`, { result });
  return { result };
}

export default defineModule<Args, Facts>({
  name: 'getent',
  aliases: ['ansible.builtin.getent', 'ansible.legacy.getent'],
  description: 'Read a getent database (passwd, group, shadow, hosts, …) into the facts as getent_<database>',
  args,
  facts: readFacts,
  plan: (f, a) => {
    const tree = `getent_${a.database}`;
    const { rc, stdout } = f.result;
    if (rc === 0) {
      const split = a.split ?? (COLON.includes(a.database) ? ':' : undefined);
      return { changes: [], result: { ansible_facts: { [tree]: markUnsafe(parseGetent(stdout, split)) } } };
    }
    const msg = FAILURES[rc] ?? 'Unexpected failure!';
    if (rc === 2 && !a.fail_key) {
      return { changes: [], msg, result: { ansible_facts: { [tree]: markUnsafe({ [a.key ?? 'null']: null }) } } };
    }
    return { changes: [], fail: msg };
  },
});
