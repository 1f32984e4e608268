// fail: fails the task with a message (usually under `when`). Runs on the controller.
import { z } from 'zod';
import { defineModule } from '../src/module.js';
import { parseKeyValues } from '../src/remote/shlex.js';

const args = z
  .object({
    msg: z.unknown().optional().describe('why; default "Failed as requested from task"'),
    _raw_params: z.string().optional().describe('Ansible k=v form: fail: msg="why"'),
  })
  .strict();

type Args = z.infer<typeof args>;

export default defineModule<Args, Record<string, never>>({
  name: 'fail',
  aliases: ['ansible.builtin.fail', 'ansible.legacy.fail'],
  description: 'Fail the task with a custom message (runs on the controller)',
  args,
  freeForm: '_raw_params',
  runsOn: 'controller',
  facts: async () => ({}),
  plan(_facts, a) {
    let msg = a.msg;
    if (msg === undefined && a._raw_params !== undefined) {
      try {
        msg = parseKeyValues(a._raw_params).msg;
      } catch {
        msg = a._raw_params;
      }
    }
    msg ??= 'Failed as requested from task';
    return { changes: [], fail: typeof msg === 'string' ? msg : JSON.stringify(msg) };
  },
});
