// Snapshot of a directory tree (type, mode, owner, group, content hash, link
// target) to check that phx-play and Ansible left the same end state.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export type Tree = Map<string, string>;

export function snapshot(root: string): Tree {
  const out: Tree = new Map();
  const walk = (rel: string) => {
    const abs = join(root, rel);
    const st = lstatSync(abs);
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    const who = `${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out.set(rel || '.', `link ${who} -> ${readlinkSync(abs)}`);
    else if (st.isDirectory()) {
      out.set(rel || '.', `dir ${mode} ${who}`);
      for (const name of readdirSync(abs).sort()) walk(rel ? join(rel, name) : name);
    } else if (st.isFile()) {
      const sha = createHash('sha1').update(readFileSync(abs)).digest('hex');
      out.set(rel || '.', `file ${mode} ${who} ${st.size} ${sha}`);
    } else out.set(rel || '.', `other ${mode} ${who}`);
  };
  walk('');
  return out;
}

/** Human-readable differences between two snapshots; empty when equal. */
export function compareTrees(a: Tree, b: Tree, aName: string, bName: string): string[] {
  const diffs: string[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key);
    const y = b.get(key);
    if (x !== y) diffs.push(`${key}: ${aName} ${x ?? '(missing)'} | ${bName} ${y ?? '(missing)'}`);
  }
  return diffs.sort();
}
