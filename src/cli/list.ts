// --list-hosts, --list-tasks, --list-tags: what a run would touch, without running.
import { selectHosts, type Inventory } from '../inventory/index.js';
import type { Playbook, TaskNode } from '../playbook/types.js';
import { tagsSelect, type TagFilter } from '../executor/tags.js';

interface Listed {
  name: string;
  tags: string[];
}

/** `role` prefixes a role's task names as Ansible lists them: `role_name : task name` */
function walk(nodes: TaskNode[], inherited: string[], out: Listed[], role = ''): void {
  for (const n of nodes) {
    const tags = [...new Set([...inherited, ...(n.tags ?? [])])];
    if (n.kind === 'task') out.push({ name: `${role}${n.name ?? n.module}`, tags });
    else if (n.kind === 'block') {
      const inner = n.role ? `${n.role.name} : ` : role;
      for (const part of [n.block, n.rescue, n.always]) walk(part, tags, out, inner);
    } else if (n.kind === 'include_tasks') {
      out.push({ name: `${role}${n.role ? 'include_role' : 'include_tasks'}: ${n.file}`, tags });
      if (n.preloaded) walk(n.preloaded, tags, out, role);
    } else out.push({ name: `meta: ${n.action}`, tags });
  }
}

export function listText(
  pbs: Playbook[],
  inv: Inventory,
  what: { hosts: boolean; tasks: boolean; tags: boolean },
  filter: TagFilter,
  limit?: string,
): string {
  const lines: string[] = [];
  for (const pb of pbs) {
    lines.push(`\nplaybook: ${pb.file}`);
    pb.plays.forEach((play, i) => {
      lines.push(`\n  play #${i + 1} (${play.hosts}): ${play.name}\tTAGS: [${(play.tags ?? []).join(', ')}]`);
      if (what.hosts) {
        let hosts = selectHosts(inv, play.hosts, { baseDir: play.baseDir });
        if (limit) {
          const allowed = new Set(selectHosts(inv, limit, { baseDir: play.baseDir }));
          hosts = hosts.filter((h) => allowed.has(h));
        }
        lines.push(`    pattern: ['${play.hosts}']`, `    hosts (${hosts.length}):`, ...hosts.map((h) => `      ${h}`));
      }
      const tasks: Listed[] = [];
      walk([...play.pre_tasks, ...play.tasks, ...play.post_tasks], play.tags ?? [], tasks);
      const selected = tasks.filter((t) => tagsSelect(t.tags, filter));
      if (what.tasks) lines.push('    tasks:', ...selected.map((t) => `      ${t.name}\tTAGS: [${t.tags.join(', ')}]`));
      if (what.tags)
        lines.push(`      TASK TAGS: [${[...new Set(selected.flatMap((t) => t.tags))].sort().join(', ')}]`);
    });
  }
  return lines.join('\n').replace(/^\n/, '') + '\n';
}
