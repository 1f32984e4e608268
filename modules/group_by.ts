// group_by: puts each host in a group named by a value of its own (`key: "os_{{ ansible_distribution }}"`),
// for the later plays of the run. As lib/ansible/plugins/action/group_by.py: `key` (spaces become
// '-'), `parents` (default all; a string is one name); the result's add_group/parent_groups are
// applied by the executor (src/executor/inventory-changes.ts, Ansible's strategy _add_group), which
// decides `changed`. Runs per host, on the controller, in check mode too.
import * as z from 'zod';
import { isValidGroupName } from '../src/inventory/names.js';
import { defineModule } from '../src/module.js';

/** What group_by.py does to a name before it is one. */
const groupName = (v: string) => v.replace(/ /g, '-');

const checked = (what: string) =>
  z
    .string()
    .min(1)
    .refine((v) => v.includes('{{') || isValidGroupName(groupName(v)), {
      message: `${what} must be a group name (letters, digits, '_', '.', '-'; spaces become '-')`,
    });

const args = () =>
  z
    .object({
      key: checked('key').describe('the group to put the host in'),
      parents: z
        .union([checked('parents'), z.array(checked('parents'))])
        .optional()
        .describe('the parent groups of the group (default: all)'),
    })
    .strict();

type Args = z.infer<ReturnType<typeof args>>;

export default defineModule<Args, Record<string, never>>({
  name: 'group_by',
  aliases: ['ansible.builtin.group_by', 'ansible.legacy.group_by'],
  description: 'Put each host in a group named by one of its values, for later plays (runs on the controller)',
  args,
  runsOn: 'controller',
  facts: () => Promise.resolve({}),
  plan(_facts, a) {
    const parents = (a.parents === undefined ? ['all'] : typeof a.parents === 'string' ? [a.parents] : a.parents).map(
      groupName,
    );
    const group = groupName(a.key);
    const bad = [group, ...parents].find((g) => !isValidGroupName(g));
    if (bad !== undefined) return { changes: [], fail: `group_by: ${JSON.stringify(bad)} is not a group name` };
    return { changes: [], result: { add_group: group, parent_groups: parents } };
  },
});
