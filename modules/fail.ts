// fail: fails the task with a message (usually under `when`). Runs on the controller.
import * as z from 'zod';
import { defineModule } from '../src/module.js';
import { isUnsafeText } from '../src/unsafe.js';

const args = () =>
  z
    .object({
      msg: z.unknown().optional().describe('why; default "Failed as requested from task"'),
    })
    .strict();

type Args = z.infer<ReturnType<typeof args>>;

export default defineModule<Args, Record<string, never>>({
  name: 'fail',
  aliases: ['ansible.builtin.fail', 'ansible.legacy.fail'],
  description: 'Fail the task with a custom message (runs on the controller)',
  args,
  runsOn: 'controller',
  facts: () => Promise.resolve({}),
  plan(_facts, a) {
    const msg = a.msg ?? 'Failed as requested from task';
    return { changes: [], fail: typeof msg === 'string' || isUnsafeText(msg) ? String(msg) : JSON.stringify(msg) };
  },
});
