// add_host: adds a host (and its groups and variables) to the run's in-memory inventory, for
// the later plays of the run. As lib/ansible/plugins/action/add_host.py: BYPASS_HOST_LOOP (runs
// once, on the first host, each loop item adding a host), name/hostname/host with an optional
// `:port`, groups/group/groupname as a list or a comma list, every other argument a host
// variable; the result's `add_host` is applied by the executor (src/executor/inventory-changes.ts,
// Ansible's strategy _add_host), which decides `changed`. Runs in check mode too.
import * as z from 'zod';
import { checkConnectionVar } from '../src/inventory/index.js';
import { isValidGroupName, parseHostAndPort } from '../src/inventory/names.js';
import { PhxError } from '../src/errors.js';
import { defineModule } from '../src/module.js';

const NAME_KEYS = ['name', 'hostname', 'host'] as const;
const GROUP_KEYS = ['groups', 'group', 'groupname'] as const;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const args = () => {
  const groupsArg = z.union([z.string(), z.array(z.string())]);
  return z
    .object({
      name: z.string().min(1).optional().describe('the host to add: a name, `name:port`, an IPv4 or IPv6 address'),
      hostname: z.string().min(1).optional().describe('alias of name'),
      host: z.string().min(1).optional().describe('alias of name'),
      groups: groupsArg.optional().describe('groups to put the host in: a list, or names separated by commas'),
      group: groupsArg.optional().describe('alias of groups'),
      groupname: groupsArg.optional().describe('alias of groups'),
    })
    .catchall(z.unknown())
    .superRefine((a, ctx) => {
      const names = NAME_KEYS.filter((k) => a[k] !== undefined);
      if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'name, host or hostname needs to be provided' });
      for (const k of names) {
        const v = a[k] as string;
        if (!v.includes('{{') && !parseHostAndPort(v))
          ctx.addIssue({
            code: 'custom',
            path: [k],
            message: `${JSON.stringify(v)} is not a host name (letters, digits, '_', '.', '-'), an address, or either with ':port'`,
          });
      }
      for (const k of GROUP_KEYS) {
        const v = a[k];
        if (v === undefined) continue;
        for (const g of splitGroups(v))
          if (!g.includes('{{') && !isValidGroupName(g))
            ctx.addIssue({
              code: 'custom',
              path: [k],
              message: `${JSON.stringify(g)} is not a group name (letters, digits, '_', '.', '-')`,
            });
      }
      for (const k of Object.keys(a)) {
        if ((NAME_KEYS as readonly string[]).includes(k) || (GROUP_KEYS as readonly string[]).includes(k)) continue;
        if (!VAR_NAME.test(k) && !k.includes('{{'))
          ctx.addIssue({ code: 'custom', path: [k], message: `the variable name '${k}' is not valid` });
        else
          try {
            checkConnectionVar(k, a[k]);
          } catch (e) {
            if (!(e instanceof PhxError)) throw e;
            ctx.addIssue({ code: 'custom', path: [k], message: e.message });
          }
      }
    });
};

type Args = z.infer<ReturnType<typeof args>>;

/** A comma list or a list; names trimmed, each once, in order (add_host.py). */
function splitGroups(v: string | string[]): string[] {
  const list = typeof v === 'string' ? v.split(',') : v;
  return [...new Set(list.map((g) => g.trim()).filter((g) => g !== ''))];
}

export default defineModule<Args, Record<string, never>>({
  name: 'add_host',
  aliases: ['ansible.builtin.add_host', 'ansible.legacy.add_host'],
  description: "Add a host (with groups and variables) to the run's inventory for later plays (runs on the controller)",
  args,
  runsOn: 'controller',
  bypassHostLoop: true,
  facts: () => Promise.resolve({}),
  plan(_facts, a) {
    const written = (a.name ?? a.hostname ?? a.host)!;
    const parsed = parseHostAndPort(written);
    if (!parsed) return { changes: [], fail: `add_host: ${JSON.stringify(written)} is not a host name` };
    const groups = splitGroups(a.groupname ?? a.groups ?? a.group ?? []);
    const bad = groups.find((g) => !isValidGroupName(g));
    if (bad !== undefined) return { changes: [], fail: `add_host: ${JSON.stringify(bad)} is not a group name` };
    const hostVars: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a))
      if (!(NAME_KEYS as readonly string[]).includes(k) && !(GROUP_KEYS as readonly string[]).includes(k))
        hostVars[k] = v;
    if (parsed.port !== undefined) hostVars.ansible_ssh_port = parsed.port;
    return {
      changes: [],
      result: { add_host: { host_name: parsed.host, groups, host_vars: hostVars } },
    };
  },
});
