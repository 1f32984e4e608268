// command: runs a program on the host without a shell (no pipes, no `$VAR`).
// The command line is split into words like Python's shlex (as Ansible does);
// `argv:` gives the words directly. Inline `creates=/x` options in the free
// form are taken out by the playbook loader before the schema sees them.
// As in Ansible, `$VAR` and a leading `~` in a word are expanded on the host
// (expand_argument_vars, src/remote/expand-word.ts); nothing else is.
import * as z from 'zod';
import { defineModule } from '../src/module.js';
import { shellJoin } from '../src/quote.js';
import { hostExpandedWord } from '../src/remote/expand-word.js';
import { commandOptionFields, commandSpec, commandSteps, type CommandSpec } from '../src/remote/run-command.js';
import { shlexSplit } from '../src/remote/shlex.js';

const args = () =>
  z
    .object({
      cmd: z.string().min(1).optional().describe('the command line, split like a shell would (no shell features)'),
      // Ansible turns numbers and booleans in argv into their text (`{{ vmid }}` → '1001')
      argv: z
        .array(z.union([z.string(), z.number(), z.boolean()]).transform(String))
        .min(1)
        .optional()
        .describe('the command as a list of words'),
      expand_argument_vars: z
        .boolean()
        .default(true)
        .describe('expand $VAR, ${VAR} and a leading ~ in each word on the host (an unset variable stays as written)'),
      executable: z
        .string()
        .optional()
        .describe("ignored with Ansible's warning, as command.py does (the shell module uses it)"),
      ...commandOptionFields,
    })
    .strict()
    .refine((a) => (a.cmd === undefined) !== (a.argv === undefined), {
      message: 'command needs exactly one of: a command line (free form or cmd), argv',
    })
    .superRefine((a, ctx) => {
      if (a.cmd === undefined) return;
      try {
        if (shlexSplit(a.cmd).length === 0)
          ctx.addIssue({ code: 'custom', path: ['cmd'], message: 'no command given' });
      } catch (e) {
        ctx.addIssue({
          code: 'custom',
          path: ['cmd'],
          message: `cannot split the command line: ${(e as Error).message}`,
        });
      }
    });

type Args = z.infer<ReturnType<typeof args>>;

/** Arguments → what to run (the schema already rejected unbalanced quotes). */
function spec(a: Args): CommandSpec {
  const argv = a.argv ?? shlexSplit(a.cmd!);
  const line = a.expand_argument_vars ? argv.map(hostExpandedWord).join(' ') : shellJoin(argv);
  const spec = commandSpec(argv, line, a);
  // command.py main(): "if not shell and executable" it warns and runs the command as given
  if (a.executable !== undefined)
    spec.warnings = [
      `As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '${a.executable}'.`,
    ];
  return spec;
}

export default defineModule({
  name: 'command',
  aliases: ['ansible.builtin.command', 'ansible.legacy.command'],
  description: 'Run a command on the host (no shell); creates/removes make it idempotent',
  args,
  freeForm: 'cmd',
  ...commandSteps(spec),
});
