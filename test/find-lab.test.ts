// find and getent over SSH on a loopback lab host (ansible/ansible lib/ansible/modules/find.py main,
// lib/ansible/modules/getent.py main), and user's password ageing (user.py set_password_expire)
// where the lab host's /etc is its own overlay. Names that would be code or options in a shell line
// are searched and reported as they are, in one round trip.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import findModule from '../modules/find.js';
import getentModule from '../modules/getent.js';
import user from '../modules/user.js';
import { useLabHost } from './harness/lab-fixture.js';

const ROOT = '/srv/findlab';
const fx = useLabHost('phx-find-lab-', async ({ sh }) => {
  await sh(
    `rm -rf ${ROOT} && mkdir -p ${ROOT}/-opt/sub ${ROOT}/.cache && cd ${ROOT} && ` +
      `printf 'listen 80\\n' > '-opt/sub/a.conf' && printf 'x' > "$(printf 'new\\nline.conf')" && ` +
      `printf 'listen 8080\\n' > "$(printf 'q\\047$(touch pwned).conf')" && ` +
      `: > .cache/c.conf && : > '-opt/-n' && ` +
      `ln -s -- -opt link && touch -d 2001-01-01 -- '-opt/-n'`,
  );
});

const paths = (r: Record<string, unknown>) => (r.files as { path: string }[]).map((f) => f.path).sort();

describe('find over SSH', () => {
  it('recurse, patterns, contains: hostile names are data, one round trip for the walk', async () => {
    const before = fx.commands.length;
    const r = await fx.run(findModule, { paths: ROOT, recurse: true, patterns: '*.conf' });
    assert.equal(fx.commands.length - before, 1);
    assert.deepEqual(paths(r), [
      `${ROOT}/-opt/sub/a.conf`,
      `${ROOT}/.cache/c.conf`,
      `${ROOT}/new\nline.conf`,
      `${ROOT}/q'$(touch pwned).conf`,
    ]);
    const listening = await fx.run(findModule, { paths: ROOT, recurse: true, contains: 'listen 80$' });
    assert.deepEqual(paths(listening), [`${ROOT}/-opt/sub/a.conf`]);
    assert.equal((await fx.exec(`test -e ${ROOT}/pwned || test -e ~/pwned`)).rc, 1, 'nothing a name holds ran');
  });

  it('file_type, age, depth, follow; a path with a leading dash through its parent', async () => {
    const old = await fx.run(findModule, { paths: `${ROOT}/-opt`, age: '1w' });
    assert.deepEqual(paths(old), [`${ROOT}/-opt/-n`]);
    const dirs = await fx.run(findModule, {
      paths: ROOT,
      recurse: true,
      depth: 1,
      file_type: 'directory',
      hidden: true,
    });
    assert.deepEqual(paths(dirs), [`${ROOT}/-opt`, `${ROOT}/.cache`]);
    const viaLink = await fx.run(findModule, { paths: ROOT, recurse: true, follow: true, patterns: 'a.conf' });
    assert.deepEqual(paths(viaLink), [`${ROOT}/-opt/sub/a.conf`, `${ROOT}/link/sub/a.conf`]);
    const check = await fx.run(findModule, { paths: ROOT, recurse: true, patterns: '*.conf' }, { check: true });
    assert.equal(check.changed, false);
    assert.equal(check.matched, 4);
  });
});

describe('getent over SSH', () => {
  it('passwd by key, a missing key with fail_key false, an unknown database', async () => {
    const r = await fx.run(getentModule, { database: 'passwd', key: 'root' });
    const facts = r.ansible_facts as Record<string, Record<string, unknown[]>>;
    assert.equal(String(facts.getent_passwd.root[1]), '0');
    const missing = await fx.run(getentModule, { database: 'passwd', key: '-nobody-here', fail_key: false });
    assert.deepEqual(JSON.parse(JSON.stringify(missing.ansible_facts)), { getent_passwd: { '-nobody-here': null } });
    const bad = await fx.run(getentModule, { database: 'nosuchdb' });
    assert.equal(bad.failed, true);
    assert.equal(bad.msg, 'Missing arguments, or database unknown.');
  });
});

describe('user password ageing over SSH', () => {
  it('chage -m/-M when the shadow entry differs, then ok', async (t) => {
    const fsType = await fx.sh(`awk '$2 == "/etc" { t = $3 } END { print t }' /proc/self/mounts`);
    if (fsType.trim() !== 'overlay') return t.skip('/etc on the lab host is not its own overlay');
    await fx.sh('id ager >/dev/null 2>&1 || useradd -M ager');
    // no home: the lab host's /home is the machine's own
    const args = { name: 'ager', password_expire_min: 7, password_expire_max: 60, create_home: false };
    const check = await fx.run(user, args, { check: true });
    assert.equal(check.changed, true);
    const first = await fx.run(user, args);
    assert.equal(first.failed, undefined, String(first.msg));
    assert.equal(first.changed, true);
    assert.match(await fx.sh('getent shadow ager'), /^ager:[^:]*:\d*:7:60:/);
    const again = await fx.run(user, args);
    assert.equal(again.changed, false);
  });
});
