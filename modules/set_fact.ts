// set_fact: sets host variables for the rest of the run. The engine merges
// the result's `ansible_facts` into the host's vars (the playbook loader turns
// `set_fact: a=1 b=x` into keys). Runs on the controller.
import * as z from 'zod';
import { defineModule } from '../src/module.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const args = () =>
  z
    .object({
      // a boolean in Ansible's spellings: `set_fact: a=1 cacheable=no` is a string there
      cacheable: z
        .union([z.boolean(), z.string().regex(/^(yes|no|true|false|on|off|1|0)$/i, 'expected a boolean')])
        .optional()
        .describe('accepted for compatibility (there is no fact cache)'),
    })
    .catchall(z.unknown())
    .superRefine((a, ctx) => {
      const names = Object.keys(a).filter((k) => k !== 'cacheable');
      if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'set_fact needs at least one variable to set' });
      for (const n of names) {
        // a templated name is checked once rendered, when the task runs
        if (!NAME.test(n) && !n.includes('{{')) {
          ctx.addIssue({
            code: 'custom',
            path: [n],
            message: `The variable name '${n}' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores.`,
          });
        }
      }
    });

type Args = z.infer<ReturnType<typeof args>>;

export default defineModule<Args, Record<string, never>>({
  name: 'set_fact',
  aliases: ['ansible.builtin.set_fact', 'ansible.legacy.set_fact'],
  readAhead: 'passes',
  description: 'Set host variables for later tasks (runs on the controller)',
  args,
  runsOn: 'controller',
  facts: () => Promise.resolve({}),
  plan(_facts, a) {
    const facts: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a)) if (k !== 'cacheable') facts[k] = v;
    return { changes: [], result: { ansible_facts: facts } };
  },
});
