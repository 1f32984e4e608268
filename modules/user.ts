// user: a local user account, with Ansible's arguments and results
// (lib/ansible/modules/user.py, class User: create_user_useradd,
// modify_user_usermod, remove_user_userdel; main() registers name, state,
// uid, group, comment, home, shell, groups, and `password: NOT_LOGGING_PASSWORD`).
// Facts are one round trip (getent passwd, group, and shadow when a password
// is asked for). The password hash is a secret: it never goes on an argv
// (Ansible's `useradd -p` shows it to `ps`); `chpasswd -e` reads it on stdin.
import * as z from 'zod';
import { defineModule, type Change, type ModuleContext, type Plan } from '../src/module.js';
import { applyChanges } from '../src/module-runner.js';
import {
  accountName,
  accountNameProblem,
  parseGroups,
  parsePasswd,
  passwdField,
  type GroupEntry,
  type PasswdEntry,
} from '../src/remote/accounts.js';
import { runBatch } from '../src/remote/batch.js';

const args = () => {
  /** Ansible's `groups`: a list, or one comma-separated string ('' or []: no supplementary groups). */
  const groupsArg = z
    .union([z.array(z.string()), z.string()])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((g) => g.trim()).filter((g) => g !== ''))
    .superRefine((list, ctx) => {
      for (const g of list) {
        const problem = accountNameProblem(g);
        if (problem) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(g)}: ${problem}` });
      }
    });
  return z
    .object({
      name: accountName().optional().describe('the user (alias: user)'),
      user: accountName().optional(),
      state: z.enum(['present', 'absent']).default('present'),
      uid: z.number().int().nonnegative().optional(),
      non_unique: z.boolean().default(false).describe('allow a uid another user has (needs uid)'),
      group: z
        .union([accountName(), z.number().int().nonnegative()])
        .optional()
        .describe('primary group, name or gid; it must exist'),
      groups: groupsArg.optional().describe('supplementary groups (list or comma-separated); they must exist'),
      append: z.boolean().default(false).describe('add to `groups` instead of setting exactly them'),
      comment: passwdField().optional().describe('the GECOS field'),
      home: passwdField()
        .refine((v) => v.startsWith('/'), { message: 'home is an absolute path' })
        .optional(),
      shell: passwdField().optional(),
      password: passwdField()
        .optional()
        .describe('the crypted password (a hash, e.g. from password_hash); never logged'),
      update_password: z.enum(['always', 'on_create']).default('always'),
      password_expire_min: z.number().int().optional().describe('minimum days between password changes (chage -m)'),
      password_expire_max: z.number().int().optional().describe('maximum days a password is valid (chage -M)'),
      password_lock: z.boolean().optional().describe('lock (usermod -L) or unlock (usermod -U) the password'),
      create_home: z.boolean().optional().describe('useradd -m (default true; alias createhome)'),
      createhome: z.boolean().optional(),
      move_home: z.boolean().default(false).describe('usermod -m when home changes'),
      skeleton: passwdField()
        .refine((v) => v.startsWith('/'), { message: 'skeleton is an absolute path' })
        .optional()
        .describe('skeleton directory for a new home (useradd -k)'),
      system: z.boolean().default(false).describe('a system account (useradd -r), when created'),
      force: z.boolean().default(false).describe('userdel -f'),
      remove: z.boolean().default(false).describe('userdel -r: remove the home and mail spool'),
    })
    .strict()
    .superRefine((a, ctx) => {
      if ((a.name === undefined) === (a.user === undefined))
        ctx.addIssue({
          code: 'custom',
          path: ['name'],
          message: a.name === undefined ? 'name is required' : 'name and user are aliases: give one',
        });
      if (a.create_home !== undefined && a.createhome !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['createhome'],
          message: 'create_home and createhome are aliases: give one',
        });
      if (a.non_unique && a.uid === undefined)
        ctx.addIssue({ code: 'custom', path: ['non_unique'], message: 'non_unique needs uid' });
    });
};

type Args = z.infer<ReturnType<typeof args>>;

interface Facts {
  user?: PasswdEntry;
  groups: GroupEntry[];
  /** the shadow hash, read only when a password or password_lock is asked for: compared, never shown */
  hash?: string;
  /** state present: whether the current home, and `home` when given, exist; /etc/login.defs (null: none) */
  homeExists?: boolean;
  wantedHomeExists?: boolean;
  loginDefs?: string | null;
  /** the shadow entry's minimum and maximum password age (-1: empty), read when asked for; undefined: no entry */
  expire?: { min: number; max: number };
}

const nameOf = (a: Args) => (a.name ?? a.user)!;
const createHome = (a: Args) => a.create_home ?? a.createhome ?? true;
const SECRET_SHOWN = 'NOT_LOGGING_PASSWORD';
/** Python's hash.lstrip('!'): the hash without the marks that lock it */
const unlocked = (hash: string) => hash.replace(/^!+/, '');

async function readFacts(ctx: ModuleContext, a: Args): Promise<Facts> {
  const name = nameOf(a);
  const reads: string[][] = [
    ['getent', 'passwd', name],
    ['getent', 'group'],
  ];
  const expiry = a.password_expire_min !== undefined || a.password_expire_max !== undefined;
  const withShadow = a.password !== undefined || a.password_lock !== undefined || expiry;
  if (withShadow) reads.push(['getent', 'shadow', name]);
  // Ansible's main() creates a missing home of an existing user: does it exist, and with what mode
  const present = a.state === 'present';
  if (present) {
    reads.push(['sh', '-c', 'h=$(getent passwd "$1" | cut -d: -f6) && [ -n "$h" ] && [ -e "$h" ]', 'sh', name]);
    reads.push(['cat', '/etc/login.defs']);
    if (a.home !== undefined) reads.push(['test', '-e', a.home]);
  }
  const [passwd, group, ...rest] = await runBatch(ctx, reads);
  const shadow = withShadow ? rest.shift() : undefined;
  const [home, defs, wanted] = rest;
  const user = passwd.rc === 0 ? parsePasswd(passwd.stdout) : undefined;
  const entry = shadow?.rc === 0 ? shadow.stdout.split('\n')[0].split(':') : undefined;
  // getspnam's sp_min/sp_max: an empty field is -1
  const days = (field: string | undefined) => (field ? Number(field) : -1);
  return {
    user: user?.name === name ? user : undefined,
    groups: parseGroups(group.stdout),
    hash: a.password !== undefined || a.password_lock !== undefined ? entry?.[1] : undefined,
    expire: expiry && entry ? { min: days(entry[3]), max: days(entry[4]) } : undefined,
    ...(present
      ? {
          homeExists: home.rc === 0,
          wantedHomeExists: wanted ? wanted.rc === 0 : undefined,
          loginDefs: defs.rc === 0 ? defs.stdout : null,
        }
      : {}),
  };
}

function findGroup(groups: GroupEntry[], g: string | number): GroupEntry | undefined {
  return typeof g === 'number' ? groups.find((e) => e.gid === g) : groups.find((e) => e.name === g);
}

/** The user's supplementary groups (Ansible's user_group_membership: the primary group left out). */
function membership(f: Facts, name: string, primary: number): string[] {
  return f.groups.filter((g) => g.members.includes(name) && g.gid !== primary).map((g) => g.name);
}

/**
 * The mode create_homedir gives a home: HOME_MODE from /etc/login.defs, else
 * 0777 & ~UMASK, else 0755; no chmod at all without the file.
 */
export function homeMode(loginDefs: string | null | undefined): number | undefined {
  if (loginDefs === null || loginDefs === undefined) return undefined;
  let mode = 0o755;
  for (const line of loginDefs.split('\n')) {
    const home = /^HOME_MODE\s+(\d+)$/.exec(line);
    if (home) return parseInt(home[1], 8);
    const umask = /^UMASK\s+(\d+)$/.exec(line);
    if (umask) mode = 0o777 & ~parseInt(umask[1], 8);
  }
  return mode;
}

/**
 * create_homedir + chown_homedir: the skeleton copied (links as links, modes and
 * times kept) or an empty directory, its mode, then everything given to the user
 * (chown -R changes links themselves, never what they point to).
 */
function createHomeChange(home: string, skeleton: string, mode: number | undefined, uid: number, gid: number): Change {
  const script = [
    'set -e',
    'if [ -e "$2" ] && [ "$2" != /dev/null ]; then mkdir -p -- "$(dirname -- "$1")"; cp -RPp -T -- "$2" "$1"',
    'else mkdir -p -- "$1"; fi',
    '[ -z "$3" ] || chmod "$3" -- "$1"',
    'chown -R -- "$4" "$1"',
  ].join('\n');
  const octal = mode === undefined ? '' : mode.toString(8).padStart(4, '0');
  return {
    description: `create the home ${home}`,
    argv: ['sh', '-c', script, 'sh', home, skeleton, octal, `${uid}:${gid}`],
  };
}

/**
 * user.py set_password_expire: `chage -m/-M` for what differs from the shadow entry; a user without one is
 * left alone (getspnam fails). A user created by this task gets them after useradd (its defaults unknown here).
 */
function expireChange(a: Args, name: string, expire: Facts['expire'], created: boolean): Change[] {
  const min = a.password_expire_min;
  const max = a.password_expire_max;
  if (!created && !expire) return [];
  const argv = ['chage'];
  if (min !== undefined && (created || min !== expire!.min)) argv.push('-m', String(min));
  if (max !== undefined && (created || max !== expire!.max)) argv.push('-M', String(max));
  return argv.length > 1 ? [{ description: `password ageing of ${name}`, argv: [...argv, '--', name] }] : [];
}

function passwordChange(name: string, hash: string): Change {
  return { description: `set the password of ${name}`, argv: ['chpasswd', '-e'], stdin: `${name}:${hash}\n` };
}

export function planUser(f: Facts, a: Args): Plan {
  const name = nameOf(a);
  const result: Record<string, unknown> = { name, state: a.state };
  const changes: Change[] = [];
  if (a.state === 'absent') {
    if (!f.user) return { changes, result };
    changes.push({
      description: `userdel ${name}`,
      argv: ['userdel', ...(a.force ? ['-f'] : []), ...(a.remove ? ['-r'] : []), name],
    });
    return { changes, result: { ...result, force: a.force, remove: a.remove } };
  }
  if (a.password !== undefined) result.password = SECRET_SHOWN;
  const primary = a.group !== undefined ? findGroup(f.groups, a.group) : undefined;
  if (a.group !== undefined && !primary) return { changes, fail: `Group ${a.group} does not exist`, result };
  const missing = (a.groups ?? []).find((g) => !findGroup(f.groups, g));
  if (missing !== undefined) return { changes, fail: `Group ${missing} does not exist`, result };
  if (a.groups !== undefined) result.groups = a.groups.join(',');

  if (!f.user) {
    const argv = ['useradd'];
    if (a.uid !== undefined) argv.push('-u', String(a.uid), ...(a.non_unique ? ['-o'] : []));
    if (primary) argv.push('-g', primary.name);
    else if (findGroup(f.groups, name)) argv.push('-N'); // a group of that name exists: no user group
    if (a.groups?.length) argv.push('-G', a.groups.join(','));
    if (a.comment !== undefined) argv.push('-c', a.comment);
    if (a.home !== undefined) argv.push('-d', a.home);
    if (a.shell !== undefined) argv.push('-s', a.shell);
    if (createHome(a)) argv.push('-m', ...(a.skeleton !== undefined ? ['-k', a.skeleton] : []));
    else argv.push('-M');
    if (a.system) argv.push('-r');
    argv.push(name);
    changes.push({ description: `useradd ${name}`, argv });
    // Ansible's `useradd -p '!hash'` with password_lock (without a password, useradd's `!` is already locked)
    if (a.password !== undefined) changes.push(passwordChange(name, `${a.password_lock ? '!' : ''}${a.password}`));
    changes.push(...expireChange(a, name, undefined, true));
    return { changes, result: { ...result, system: a.system, create_home: createHome(a) } };
  }

  const cur = f.user;
  const argv = ['usermod'];
  if (a.uid !== undefined && a.uid !== cur.uid) argv.push('-u', String(a.uid), ...(a.non_unique ? ['-o'] : []));
  if (primary && primary.gid !== cur.gid) argv.push('-g', primary.name);
  if (a.groups !== undefined) {
    const gid = primary?.gid ?? cur.gid;
    const current = new Set(membership(f, name, gid));
    const wanted = new Set(a.groups.filter((g) => findGroup(f.groups, g)!.gid !== gid));
    if (a.append) {
      const add = [...wanted].filter((g) => !current.has(g));
      if (add.length) argv.push('-a', '-G', add.join(','));
    } else if (current.size !== wanted.size || [...wanted].some((g) => !current.has(g))) {
      argv.push('-G', [...wanted].join(','));
    }
  }
  if (a.comment !== undefined && a.comment !== cur.comment) argv.push('-c', a.comment);
  if (a.home !== undefined && a.home !== cur.home) argv.push('-d', a.home, ...(a.move_home ? ['-m'] : []));
  if (a.shell !== undefined && a.shell !== cur.shell) argv.push('-s', a.shell);
  // modify_user_usermod: the hash compared without its lock marks; a new hash replaces -L/-U
  const hash = f.hash ?? '';
  const newPassword =
    a.password !== undefined && a.update_password === 'always' && unlocked(hash) !== unlocked(a.password);
  if (!newPassword && a.password_lock === true && !hash.startsWith('!')) argv.push('-L');
  // a bare `!` (no password): usermod -U refuses and Ansible reports changed on every run; left as it is
  if (!newPassword && a.password_lock === false && hash.startsWith('!') && hash !== '!') argv.push('-U');
  if (argv.length > 1) changes.push({ description: `usermod ${name}`, argv: [...argv, name] });
  if (newPassword) changes.push(passwordChange(name, `${a.password_lock ? '!' : ''}${a.password!}`));
  const uid = a.uid ?? cur.uid;
  const gid = primary?.gid ?? cur.gid;
  const home = a.home ?? cur.home;
  const moved = a.move_home && a.home !== undefined && a.home !== cur.home && f.homeExists;
  const homeThere = a.home !== undefined ? f.wantedHomeExists : f.homeExists;
  if (createHome(a) && homeThere === false && !moved)
    changes.push(createHomeChange(home, a.skeleton ?? '/etc/skel', homeMode(f.loginDefs), uid, gid));
  changes.push(...expireChange(a, name, f.expire, false));
  return {
    changes,
    result: {
      ...result,
      append: a.append,
      move_home: a.move_home,
      uid,
      group: gid,
      comment: a.comment ?? cur.comment,
      home,
      shell: a.shell ?? cur.shell,
    },
  };
}

export default defineModule<Args, Facts>({
  name: 'user',
  aliases: ['ansible.builtin.user', 'ansible.legacy.user'],
  description: 'A local user account: present with its ids, groups, home, shell and password hash, or absent',
  args,
  facts: readFacts,
  plan: (f, a) => planUser(f, a),
  async apply(ctx, plan, a, f) {
    await applyChanges(ctx, plan.changes);
    // a new user's ids and defaults are useradd's choice: registered as the host now has them
    if (a.state === 'present' && !f.user && plan.changes.length) {
      const r = await ctx.run(['getent', 'passwd', nameOf(a)], { okExit: [0, 2] });
      const now = parsePasswd(r.stdout);
      if (now) return { uid: now.uid, group: now.gid, comment: now.comment, home: now.home, shell: now.shell };
    }
  },
  verify: true,
});
