// set_fact: sets host variables for the rest of the run. The engine merges
// the result's `ansible_facts` into the host's vars. Runs on the controller.
import { z } from 'zod';
import { defineModule } from '../src/module.js';
import { parseKeyValues } from '../src/remote/shlex.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const args = z
  .object({
    cacheable: z.boolean().optional().describe('accepted for compatibility (there is no fact cache)'),
    _raw_params: z.string().optional().describe('Ansible k=v form: set_fact: a=1 b=two'),
  })
  .catchall(z.unknown())
  .superRefine((a, ctx) => {
    let names = Object.keys(a).filter((k) => k !== 'cacheable' && k !== '_raw_params');
    if (a._raw_params !== undefined) {
      try {
        names = [...names, ...Object.keys(parseKeyValues(a._raw_params))];
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return;
      }
    }
    if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'set_fact needs at least one variable to set' });
    for (const n of names) {
      if (!NAME.test(n)) {
        ctx.addIssue({ code: 'custom', path: [n], message: `The variable name '${n}' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores.` });
      }
    }
  });

type Args = z.infer<typeof args>;

/** k=v values are strings; Ansible turns yes/true/no/false into booleans there. */
function kvValue(v: string): unknown {
  if (/^(yes|true)$/i.test(v)) return true;
  if (/^(no|false)$/i.test(v)) return false;
  return v;
}

export default defineModule<Args, Record<string, never>>({
  name: 'set_fact',
  aliases: ['ansible.builtin.set_fact', 'ansible.legacy.set_fact'],
  description: 'Set host variables for later tasks (runs on the controller)',
  args,
  freeForm: '_raw_params',
  runsOn: 'controller',
  facts: async () => ({}),
  plan(_facts, a) {
    const facts: Record<string, unknown> = {};
    if (a._raw_params !== undefined) for (const [k, v] of Object.entries(parseKeyValues(a._raw_params))) facts[k] = kvValue(v);
    for (const [k, v] of Object.entries(a)) if (k !== 'cacheable' && k !== '_raw_params') facts[k] = v;
    return { changes: [], result: { ansible_facts: facts } };
  },
});
