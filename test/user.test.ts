// user and group plans on recorded facts (getent output), following Ansible's
// lib/ansible/modules/user.py (User.create_user_useradd: -N when a group of the
// user's name exists; modify_user_usermod: -G with the full set, -a -G with
// append; -L/-U for password_lock; main(): result fields, password:
// NOT_LOGGING_PASSWORD, a missing home made by create_homedir) and
// lib/ansible/modules/group.py (groupadd -g/-o/-r, groupmod -g, groupdel -f).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import group, { planGroup } from '../modules/group.js';
import user, { homeMode, planUser } from '../modules/user.js';
import { parseGroups, parsePasswd } from '../src/remote/accounts.js';
import { argErrors } from './modules-harness.js';

const GROUPS = parseGroups(
  'root:x:0:\nsudo:x:27:alice\nusers:x:100:\nalice:x:1000:\nwww-data:x:33:alice,bob\nbackup:x:34:\nbob:x:1001:\n',
);
const ALICE = parsePasswd('alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n')!;
const HASH = '$6$salt$abcdefghijklmnopqrstuvwxyz';
const u = (a: Record<string, unknown>) => user.args.parse(a);
const g = (a: Record<string, unknown>) => group.args.parse(a);

describe('user: plans', () => {
  it('password: compared without the lock prefix, as user.py modify_user_usermod (`!*` is `*` already)', () => {
    const star = u({ name: 'alice', password: '*' });
    assert.deepEqual(planUser({ user: ALICE, groups: GROUPS, hash: '!*' }, star).changes, []);
    assert.deepEqual(planUser({ user: ALICE, groups: GROUPS, hash: '!' }, star).changes[0].argv, ['chpasswd', '-e']);
    assert.deepEqual(planUser({ user: ALICE, groups: GROUPS, hash: '*' }, star).changes, []);
  });

  it('password_expire_min/max: chage -m/-M for what differs from the shadow entry (user.py set_password_expire)', () => {
    const a = u({ name: 'alice', password_expire_min: 7, password_expire_max: 60 });
    const differs = planUser({ user: ALICE, groups: GROUPS, expire: { min: 0, max: 60 } }, a);
    assert.deepEqual(
      differs.changes.map((c) => c.argv),
      [['chage', '-m', '7', '--', 'alice']],
    );
    assert.deepEqual(planUser({ user: ALICE, groups: GROUPS, expire: { min: 7, max: 60 } }, a).changes, []);
    // an empty field is -1 (getspnam), so it differs from any value asked for
    const empty = planUser({ user: ALICE, groups: GROUPS, expire: { min: -1, max: -1 } }, a);
    assert.deepEqual(empty.changes[0].argv, ['chage', '-m', '7', '-M', '60', '--', 'alice']);
    // no shadow entry: left alone, as user.py does when getspnam fails
    assert.deepEqual(planUser({ user: ALICE, groups: GROUPS }, a).changes, []);
    // a new user: after useradd
    const created = planUser({ groups: GROUPS }, u({ name: 'dave', password_expire_max: 90 }));
    assert.deepEqual(
      created.changes.map((c) => c.argv![0]),
      ['useradd', 'chage'],
    );
    assert.deepEqual(argErrors(user, { name: 'a', password_expire_min: 'x' }).length, 1);
  });

  it('a new user: useradd with Ansible’s options; the hash goes to chpasswd -e on stdin, never on the argv', () => {
    const p = planUser(
      { groups: GROUPS },
      u({ name: 'carol', uid: 1050, groups: 'sudo, www-data', comment: 'Carol', shell: '/bin/bash', password: HASH }),
    );
    assert.deepEqual(p.changes[0].argv, [
      'useradd',
      '-u',
      '1050',
      '-G',
      'sudo,www-data',
      '-c',
      'Carol',
      '-s',
      '/bin/bash',
      '-m',
      'carol',
    ]);
    assert.deepEqual(p.changes[1].argv, ['chpasswd', '-e']);
    assert.equal(p.changes[1].stdin, `carol:${HASH}\n`);
    for (const c of p.changes) assert.ok(!c.argv!.join(' ').includes(HASH) && !c.description.includes(HASH));
    assert.deepEqual(p.result, {
      name: 'carol',
      state: 'present',
      password: 'NOT_LOGGING_PASSWORD',
      groups: 'sudo,www-data',
      system: false,
      create_home: true,
    });
  });

  it('a group of the user’s name exists: -N (no user group), as create_user_useradd', () => {
    const p = planUser({ groups: GROUPS }, u({ name: 'bob', create_home: false, system: true }));
    assert.deepEqual(p.changes[0].argv, ['useradd', '-N', '-M', '-r', 'bob']);
  });

  it('an existing user in the wanted state: no change, Ansible’s result fields', () => {
    const p = planUser(
      { user: ALICE, groups: GROUPS, hash: HASH },
      u({ name: 'alice', groups: ['sudo', 'www-data'], shell: '/bin/bash', password: HASH }),
    );
    assert.deepEqual(p.changes, []);
    assert.deepEqual(p.result, {
      name: 'alice',
      state: 'present',
      password: 'NOT_LOGGING_PASSWORD',
      groups: 'sudo,www-data',
      append: false,
      move_home: false,
      uid: 1000,
      group: 1000,
      comment: 'Alice,,,',
      home: '/home/alice',
      shell: '/bin/bash',
    });
  });

  it('usermod: exact groups with -G, append adds only the missing ones with -a -G; home moved with -m', () => {
    const exact = planUser({ user: ALICE, groups: GROUPS }, u({ name: 'alice', groups: ['backup'] }));
    assert.deepEqual(exact.changes[0].argv, ['usermod', '-G', 'backup', 'alice']);
    const add = planUser(
      { user: ALICE, groups: GROUPS },
      u({ name: 'alice', groups: ['backup', 'sudo'], append: true }),
    );
    assert.deepEqual(add.changes[0].argv, ['usermod', '-a', '-G', 'backup', 'alice']);
    const none = planUser({ user: ALICE, groups: GROUPS }, u({ name: 'alice', groups: [] }));
    assert.deepEqual(none.changes[0].argv, ['usermod', '-G', '', 'alice']);
    const home = planUser({ user: ALICE, groups: GROUPS }, u({ name: 'alice', home: '/srv/alice', move_home: true }));
    assert.deepEqual(home.changes[0].argv, ['usermod', '-d', '/srv/alice', '-m', 'alice']);
  });

  it('password: changed only when the shadow hash differs, and not at all with update_password on_create', () => {
    const other = planUser({ user: ALICE, groups: GROUPS, hash: '$6$x$old' }, u({ name: 'alice', password: HASH }));
    assert.deepEqual(
      other.changes.map((c) => c.argv),
      [['chpasswd', '-e']],
    );
    const onCreate = planUser(
      { user: ALICE, groups: GROUPS, hash: '$6$x$old' },
      u({ name: 'alice', password: HASH, update_password: 'on_create' }),
    );
    assert.deepEqual(onCreate.changes, []);
  });

  it('password_lock: usermod -L when the hash has no `!`, -U when it has; a new hash replaces them (modify_user_usermod)', () => {
    const plan = (hash: string, a: Record<string, unknown>) =>
      planUser({ user: ALICE, groups: GROUPS, hash }, u({ name: 'alice', ...a })).changes.map((c) => c.argv);
    assert.deepEqual(plan(HASH, { password_lock: true }), [['usermod', '-L', 'alice']]);
    assert.deepEqual(plan(`!${HASH}`, { password_lock: true }), []);
    assert.deepEqual(plan(`!${HASH}`, { password_lock: false }), [['usermod', '-U', 'alice']]);
    assert.deepEqual(plan(HASH, { password_lock: false }), []);
    // a bare `!` (useradd's, no password): usermod -U refuses; nothing planned (Ansible: changed every run)
    assert.deepEqual(plan('!', { password_lock: false }), []);
    // the hash is compared without its lock marks (lstrip('!')): a locked account keeps its password
    assert.deepEqual(plan(`!${HASH}`, { password: HASH }), []);
    const relock = planUser(
      { user: ALICE, groups: GROUPS, hash: '$6$x$old' },
      u({ name: 'alice', password: HASH, password_lock: true }),
    );
    assert.deepEqual(
      relock.changes.map((c) => [c.argv, c.stdin]),
      [[['chpasswd', '-e'], `alice:!${HASH}\n`]],
    );
    const created = planUser({ groups: GROUPS }, u({ name: 'carol', password: HASH, password_lock: true }));
    assert.equal(created.changes[1].stdin, `carol:!${HASH}\n`);
  });

  it('an existing user’s missing home is made from the skeleton, moded from login.defs, given to the user (main)', () => {
    const facts = { user: ALICE, groups: GROUPS, homeExists: false, loginDefs: 'UMASK\t\t027\n' };
    const p = planUser(facts, u({ name: 'alice' }));
    assert.deepEqual(
      p.changes.map((c) => c.argv!.slice(4)),
      [['/home/alice', '/etc/skel', '0750', '1000:1000']],
    );
    // with a new home that does not exist: usermod -d, then the home (as Ansible's converge of havlasme-user-update)
    const moved = planUser(
      { ...facts, homeExists: true, wantedHomeExists: false },
      u({ name: 'alice', home: '/opt/alice', uid: 1016 }),
    );
    assert.deepEqual(moved.changes[0].argv, ['usermod', '-u', '1016', '-d', '/opt/alice', 'alice']);
    assert.deepEqual(moved.changes[1].argv!.slice(4), ['/opt/alice', '/etc/skel', '0750', '1016:1000']);
    // move_home moves the old one there; create_home: false leaves it missing
    assert.equal(
      planUser(
        { ...facts, homeExists: true, wantedHomeExists: false },
        u({ name: 'alice', home: '/opt/alice', move_home: true }),
      ).changes.length,
      1,
    );
    assert.deepEqual(planUser(facts, u({ name: 'alice', create_home: false })).changes, []);
    assert.equal(homeMode('UMASK 022\nHOME_MODE 0700\nUMASK 077\n'), 0o700);
    assert.equal(homeMode('# nothing\n'), 0o755);
    assert.equal(homeMode(null), undefined);
  });

  it('a missing group fails as Ansible words it; absent removes with userdel -f -r', () => {
    assert.equal(planUser({ groups: GROUPS }, u({ name: 'x', group: 'nope' })).fail, 'Group nope does not exist');
    assert.equal(planUser({ groups: GROUPS }, u({ name: 'x', groups: 'sudo,nope' })).fail, 'Group nope does not exist');
    const gone = planUser(
      { user: ALICE, groups: GROUPS },
      u({ name: 'alice', state: 'absent', remove: true, force: true }),
    );
    assert.deepEqual(gone.changes[0].argv, ['userdel', '-f', '-r', 'alice']);
    assert.deepEqual(gone.result, { name: 'alice', state: 'absent', force: true, remove: true });
    assert.deepEqual(planUser({ groups: GROUPS }, u({ name: 'x', state: 'absent' })).changes, []);
  });

  it('hostile values: names that would be options, fields with `:` or line breaks are refused by the schema', () => {
    assert.ok(argErrors(user, { name: '-o' }).some((e) => e.startsWith('name:')));
    assert.ok(argErrors(user, { name: 'x', groups: ['sudo', '-r'] }).length > 0);
    assert.ok(argErrors(user, { name: 'x', comment: 'a:0:0' }).some((e) => e.startsWith('comment:')));
    // a line break in the hash would give chpasswd a second line: another user's password
    assert.ok(argErrors(user, { name: 'x', password: 'h\nroot:known' }).some((e) => e.startsWith('password:')));
    assert.ok(argErrors(user, { name: 'x', home: 'rel/dir' }).some((e) => e.startsWith('home:')));
    assert.ok(argErrors(user, { name: '1000' }).length > 0);
    // the refusal never repeats the secret
    assert.ok(argErrors(user, { name: 'x', password: 'se:cret' }).every((e) => !e.includes('se:cret')));
  });
});

describe('group: plans', () => {
  it('groupadd with -g -o -r; groupmod -g when the gid differs; result name, state, gid, system', () => {
    const add = planGroup({}, g({ name: 'pveops', gid: 2000, non_unique: true, system: true }));
    assert.deepEqual(add.changes[0].argv, ['groupadd', '-g', '2000', '-o', '-r', 'pveops']);
    assert.deepEqual(add.result, { name: 'pveops', state: 'present', gid: 2000, system: true });
    const backup = GROUPS.find((x) => x.name === 'backup')!;
    const mod = planGroup({ group: backup }, g({ name: 'backup', gid: 3400 }));
    assert.deepEqual(mod.changes[0].argv, ['groupmod', '-g', '3400', 'backup']);
    assert.deepEqual(planGroup({ group: backup }, g({ name: 'backup' })).changes, []);
    assert.deepEqual(
      planGroup({ group: backup }, g({ name: 'backup', state: 'absent', force: true })).changes[0].argv,
      ['groupdel', '-f', 'backup'],
    );
    assert.deepEqual(planGroup({}, g({ name: 'backup', state: 'absent' })).changes, []);
  });
  it('a name that would be an option is refused', () => {
    assert.ok(argErrors(group, { name: '-r' }).length > 0);
    assert.ok(argErrors(group, { name: 'a b' }).length > 0);
  });
});
