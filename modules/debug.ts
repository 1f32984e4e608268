// debug: prints a message or a variable's value. Runs on the controller; the
// host is never contacted.
import * as z from 'zod';
import { PhxError } from '../src/errors.js';
import { evaluateExpression } from '../src/expr/index.js';
import { defineModule } from '../src/module.js';

const args = () =>
  z
    .object({
      msg: z.unknown().optional().describe('message (any value) to show; default "Hello world!"'),
      var: z.string().min(1).optional().describe('variable name or expression whose value is shown'),
      verbosity: z.number().int().min(0).default(0).describe('show only at -v × this many'),
    })
    .strict()
    .refine((a) => a.msg === undefined || a.var === undefined, { message: 'msg and var are mutually exclusive' });

type Args = z.infer<ReturnType<typeof args>>;

export default defineModule<Args, Record<string, never>>({
  name: 'debug',
  aliases: ['ansible.builtin.debug', 'ansible.legacy.debug'],
  readAhead: 'passes',
  description: 'Show a message or the value of a variable (runs on the controller)',
  args,
  runsOn: 'controller',
  facts: () => Promise.resolve({}),
  plan(_facts, a, p) {
    // the engine's -v count, as Ansible's magic variable
    const current = Number(p.vars.ansible_verbosity ?? 0);
    if (current < a.verbosity)
      return { changes: [], result: { skipped: true, skipped_reason: 'Verbosity threshold not met.' } };
    const name = a.var;
    if (name !== undefined) {
      let value: unknown;
      try {
        value = evaluateExpression(name, p.vars);
      } catch (e) {
        if (!(e instanceof PhxError)) throw e;
        value = 'VARIABLE IS NOT DEFINED!';
      }
      return { changes: [], result: { [name]: value } };
    }
    return { changes: [], result: { msg: a.msg ?? 'Hello world!' } };
  },
});
