// assert: fails unless every condition in `that` holds (Ansible expressions,
// evaluated by src/expr, never eval). Runs on the controller.
import * as z from 'zod';
import { PhxError, formatLoc } from '../src/errors.js';
import { evaluateCondition } from '../src/expr/index.js';
import { defineModule } from '../src/module.js';

const message = () => z.union([z.string(), z.array(z.string())]);

const args = () =>
  z
    .object({
      that: z
        .union([z.string(), z.boolean(), z.array(z.union([z.string(), z.boolean()]))])
        .describe('condition(s) that must all hold'),
      fail_msg: message().optional().describe('message when an assertion fails (alias: msg)'),
      msg: message().optional(),
      success_msg: message().optional().describe('message when all hold; default "All assertions passed"'),
      quiet: z.boolean().default(false).describe('accepted: less output'),
    })
    .strict();

type Args = z.infer<ReturnType<typeof args>>;

// String(): a message built from host output is unsafe text (src/unsafe.ts); shown as it is
const text = (m: string | string[]) => (Array.isArray(m) ? m.join('\n') : String(m));

export default defineModule<Args, Record<string, never>>({
  name: 'assert',
  aliases: ['ansible.builtin.assert', 'ansible.legacy.assert'],
  readAhead: 'passes',
  description: 'Fail unless the given conditions hold (runs on the controller)',
  args,
  runsOn: 'controller',
  facts: () => Promise.resolve({}),
  plan(_facts, a, p) {
    const conditions = Array.isArray(a.that) ? a.that : [a.that];
    for (const cond of conditions) {
      let holds: boolean;
      try {
        holds = evaluateCondition(cond, p.vars);
      } catch (e) {
        if (!(e instanceof PhxError)) throw e;
        const where = e.loc ? `${formatLoc(e.loc)}: ` : '';
        return {
          changes: [],
          fail: `${where}The conditional check '${String(cond)}' failed: ${e.message}`,
          result: { assertion: cond },
        };
      }
      if (!holds) {
        const msg = a.fail_msg ?? a.msg;
        return {
          changes: [],
          fail: msg !== undefined ? text(msg) : 'Assertion failed',
          result: { assertion: cond, evaluated_to: false },
        };
      }
    }
    return {
      changes: [],
      result: { msg: a.success_msg !== undefined ? text(a.success_msg) : 'All assertions passed' },
    };
  },
});
