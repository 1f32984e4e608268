// What user and group share: the names shadow's tools accept (validated so a
// value can never be read as an option of useradd/groupadd), and the parsed
// lines of `getent passwd` / `getent group`.
import * as z from 'zod';

/** shadow's is_valid_name (lib/chkname.c), minus what Debian relaxes: no leading `-`, no `:`, `,`, blanks or `/`. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/;

export function accountNameProblem(v: string): string | null {
  if (v.length === 0 || v.length > 32) return 'a user or group name has 1 to 32 characters';
  if (/^\d+$/.test(v)) return 'a user or group name is not all digits (it would be read as an id)';
  if (!NAME.test(v)) return 'a user or group name is letters, digits, _ . - (not first) and an optional trailing $';
  return null;
}

/** A user or group name (never an option: it cannot start with `-`). */
export const accountName = () =>
  z.string().superRefine((v, ctx) => {
    const problem = accountNameProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A field of /etc/passwd (comment, home, shell) or a password hash: one field of a `:` separated line. */
export const passwdField = () =>
  z.string().refine((v) => !/[:\n\r\0]/.test(v), { message: 'a field of /etc/passwd holds no `:`, line break or NUL' });

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** One `getent passwd` line; undefined when the output is not one (the user does not exist: rc 2, no output). */
export function parsePasswd(stdout: string): PasswdEntry | undefined {
  const line = stdout.split('\n')[0];
  const f = line.split(':');
  if (f.length < 7 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) return undefined;
  return { name: f[0], uid: Number(f[2]), gid: Number(f[3]), comment: f[4], home: f[5], shell: f.slice(6).join(':') };
}

/** `getent group` lines (all groups, or the ones asked for). */
export function parseGroups(stdout: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of stdout.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || !/^\d+$/.test(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] });
  }
  return out;
}
