// What lineinfile-like modules (blockinfile, replace) share once they have
// computed the new text: write it like copy (src/remote/put-content.ts) and
// word the result as Ansible's check_file_attrs does ("… and ownership, perms
// or SE linux context changed").
import type { Plan } from '../module.js';
import { formatMode } from './mode.js';
import { putPlan, READ_MAX_BYTES, type PutFacts } from './put-content.js';

export interface TextEdit {
  path: string;
  /** the file's text now ('' when missing) and after the edit */
  before: string;
  after: string;
  /** Ansible's message for the content change ('' when none) */
  editMsg: string;
  owner?: string | number;
  group?: string | number;
  mode?: string | number;
  backup: boolean;
  validate?: string;
  /** create the file (and its directory) when missing */
  create: boolean;
}

/** The file's current text, or why it cannot be edited (a directory, too large, unreadable). */
export function currentText(f: PutFacts, path: string): { text: string } | { fail: string; rc?: number } | null {
  const cur = f.paths[0];
  if (cur.exists && cur.type === 'directory') return { fail: `Path ${path} is a directory !`, rc: 256 };
  if (!cur.exists) return null;
  if (cur.content === undefined) return { fail: `${path} is larger than ${READ_MAX_BYTES} bytes or unreadable` };
  return { text: cur.content.toString('utf8') };
}

/** The plan writing `after` (or only fixing attributes), with Ansible's message. */
export function planTextEdit(f: PutFacts, e: TextEdit): Plan {
  const cur = f.paths[0];
  const put = putPlan(f, {
    dest: e.path,
    owner: e.owner,
    group: e.group,
    diff: true,
    content: Buffer.from(e.after, 'utf8'),
    mode: e.mode,
    backup: e.backup,
    force: true,
    validate: e.validate,
    createParent: e.create,
  });
  if (put.fail) return put;
  const r = put.result!;
  const attrsDiffer = cur.exists && (r.mode !== formatMode(cur.mode!) || r.uid !== cur.uid || r.gid !== cur.gid);
  const attrsMsg = 'ownership, perms or SE linux context changed';
  const contentChanged = !cur.exists || e.after !== e.before;
  const msg = !contentChanged
    ? attrsDiffer
      ? attrsMsg
      : ''
    : attrsDiffer && e.editMsg
      ? `${e.editMsg} and ${attrsMsg}`
      : e.editMsg;
  const result: Record<string, unknown> = {};
  if (typeof r.backup_file === 'string') result.backup_file = r.backup_file;
  return { changes: put.changes, result, msg, diff: put.diff, predict: put.predict };
}
