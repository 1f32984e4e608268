// authorized_key (and user's password_lock) for real on a lab host over SSH: a
// user made on the host (its /etc is the host's own overlay, docs/LAB.md; the
// test refuses to run otherwise), keys written to ~/.ssh/authorized_keys with
// Ansible's modes and owners (authorized_key.py keyfile(): .ssh 0700, the file
// 0600, both the user's), idempotence, exclusive, absent, check mode. Then the
// real sshd of the lab reads a key file the module wrote: the user logs in with
// the key, not once the password is locked (OpenSSH's allowed_user() refuses a
// `!` hash without PAM), and again once unlocked (user.py usermod -L / -U).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import authorizedKey from '../modules/authorized_key.js';
import user from '../modules/user.js';
import { generateKeyPair } from '../lab/sshd.js';
import { openConnection } from '../src/connection/index.js';
import type { ModuleResult } from '../src/module.js';
import { useLabHost } from './harness/lab-fixture.js';

const fx = useLabHost('phx-authkey-lab-');
const { run, sh, exec } = fx;

const HOME = '/srv/home/phxkey';
const KEYFILE = `${HOME}/.ssh/authorized_keys`;
const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIK0mQn0a7qfK9kC8b6pZb3Jx2n4p8dWb0mJr8mKq0Abc';
const RSA = 'AAAAB3NzaC1yc2EAAAADAQABAAABAQC7x9Zk';

/** Only where /etc is the lab host's own overlay (then the user phxkey is made). */
async function withUser(): Promise<boolean> {
  const fsType = await sh(`awk '$2 == "/etc" { t = $3 } END { print t }' /proc/self/mounts`);
  if (fsType.trim() !== 'overlay') return false;
  if ((await exec('getent passwd phxkey')).rc !== 0)
    await sh(`mkdir -p /srv/home && useradd -m -d ${HOME} -s /bin/sh phxkey`);
  return true;
}

const files = () => exec(`cat ${KEYFILE}; stat -c '%n %a %U:%G' ${HOME}/.ssh ${KEYFILE}`).then((r) => r.stdout);

/** check mode (nothing changes, the change predicted), the run, a second run (ok) */
async function converge(args: Record<string, unknown>): Promise<ModuleResult> {
  const before = await files();
  const check = await run(authorizedKey, args, { check: true, diff: true });
  assert.equal(check.failed, undefined, String(check.msg));
  assert.equal(await files(), before, 'check mode changed nothing');
  const real = await run(authorizedKey, args, { diff: true });
  assert.equal(real.failed, undefined, String(real.msg));
  assert.equal(real.changed, check.changed, 'check mode predicts the change');
  assert.deepEqual(real.diff, check.diff, 'check mode shows the same diff');
  const again = await run(authorizedKey, args);
  assert.equal(again.failed, undefined, String(again.msg));
  assert.equal(again.changed, false, 'second run is ok');
  return real;
}

describe('authorized_key on a lab host', () => {
  it('~/.ssh made 0700 and the file 0600, both the user’s; added, exclusive, options, absent', async (t) => {
    if (!(await withUser())) return t.skip('/etc is not an overlay on the lab host: not touching its accounts');
    await sh(`rm -rf ${HOME}/.ssh`);
    const made = await converge({ user: 'phxkey', key: `ssh-ed25519 ${ED} alice` });
    assert.equal(made.changed, true);
    assert.equal(made.keyfile, KEYFILE);
    assert.equal(made.user, 'phxkey');
    assert.equal(
      await files(),
      `ssh-ed25519 ${ED} alice\n${HOME}/.ssh 700 phxkey:phxkey\n${KEYFILE} 600 phxkey:phxkey\n`,
    );

    // a hand-written line and a comment stay; the new key goes after them
    await sh(`printf '# by hand\\nssh-rsa ${RSA} bob\\n' >> ${KEYFILE}`);
    await converge({ user: 'phxkey', key: `ssh-rsa ${RSA} bob`, key_options: 'no-pty,from="127.0.0.1"' });
    assert.equal(
      (await sh(`cat ${KEYFILE}`)).trim(),
      `ssh-ed25519 ${ED} alice\n# by hand\nno-pty,from="127.0.0.1" ssh-rsa ${RSA} bob`,
    );

    // exclusive: only the keys given remain (the comment line too goes, as in Ansible)
    await converge({ user: 'phxkey', key: `ssh-ed25519 ${ED} alice`, exclusive: true });
    assert.equal(await sh(`cat ${KEYFILE}`), `ssh-ed25519 ${ED} alice\n`);

    // a looser mode is put back when the module writes
    await sh(`chmod 0644 ${KEYFILE} && chmod 0755 ${HOME}/.ssh`);
    const gone = await converge({ user: 'phxkey', key: `ssh-ed25519 ${ED}`, state: 'absent' });
    assert.equal(gone.state, 'absent');
    assert.equal(await files(), `${HOME}/.ssh 700 phxkey:phxkey\n${KEYFILE} 600 phxkey:phxkey\n`);
  });

  it('a value cannot add a line or options; a symlinked key file is not written through', async (t) => {
    if (!(await withUser())) return t.skip('/etc is not an overlay on the lab host: not touching its accounts');
    assert.throws(() =>
      authorizedKey.args.parse({ user: 'phxkey', key: `ssh-rsa ${RSA}`, key_options: `no-pty\nssh-ed25519 ${ED}` }),
    );
    await sh(`rm -rf ${HOME}/.ssh && mkdir -p ${HOME}/.ssh && ln -s /etc/shadow ${KEYFILE}`);
    const refused = await run(authorizedKey, { user: 'phxkey', key: `ssh-rsa ${RSA}` });
    assert.equal(refused.failed, true);
    assert.match(String(refused.msg), /is a symlink/);
    assert.equal((await sh('stat -c %U /etc/shadow')).trim(), 'root', '/etc/shadow still root’s');
    assert.equal((await sh(`readlink ${KEYFILE}`)).trim(), '/etc/shadow');
    await sh(`rm -rf ${HOME}/.ssh`);
  });

  it('sshd lets the user in with a key it wrote; not once password_lock locks the account; again once unlocked', async (t) => {
    if (!(await withUser())) return t.skip('/etc is not an overlay on the lab host: not touching its accounts');
    const pair = await generateKeyPair(join(fx.dir, 'phxkey_ed25519'));
    // the lab's sshd reads <host dir>/sshd/authorized_keys_%u (lab/sshd.ts, lab/index.ts)
    const sshdDir = join(fx.dir, 'hosts', fx.host, 'sshd');
    const keysFile = join(sshdDir, 'authorized_keys_phxkey');
    // sshd reads a user's key file as that user: the lab's directories must let phxkey through
    for (const d of [fx.dir, join(fx.dir, 'hosts'), join(fx.dir, 'hosts', fx.host), sshdDir]) chmodSync(d, 0o711);
    await converge({ user: 'phxkey', key: pair.publicKey, path: keysFile, manage_dir: false });
    assert.equal((await sh(`stat -c '%a %U' ${keysFile}`)).trim(), '600 phxkey');
    // a hash that is no `!`: the account is not locked (useradd's `!` is)
    const lockable = { name: 'phxkey', password: '$6$phxsalt$notarealhash' };
    assert.equal((await run(user, lockable)).failed, undefined);

    const login = async (): Promise<string> => {
      const conn = openConnection(
        'phxkey-login',
        {
          ansible_host: '127.0.0.1',
          ansible_port: fx.lab.hosts[0].port,
          ansible_user: 'phxkey',
          ansible_ssh_private_key_file: pair.privatePath,
          ansible_ssh_known_hosts_file: fx.lab.knownHostsFile,
        },
        { homeDir: fx.dir, agentSocket: null, sshConfigFiles: [], globalKnownHostsFiles: [] },
      );
      try {
        await conn.connect();
        return (await conn.exec('id -un')).stdout.trim();
      } catch (e) {
        // what sshd said about it (the lab host's log), so that a failure explains itself
        const log = readFileSync(join(sshdDir, 'sshd.log'), 'utf8').split('\n').slice(-6).join('\n');
        throw new Error(`${(e as Error).message}\nsshd.log:\n${log}`);
      } finally {
        await conn.close().catch(() => {});
      }
    };
    assert.equal(await login(), 'phxkey');

    const locked = await run(user, { ...lockable, password_lock: true });
    assert.equal(locked.changed, true);
    assert.match(await sh('getent shadow phxkey'), /^phxkey:!\$6\$phxsalt\$notarealhash:/);
    assert.equal((await run(user, { ...lockable, password_lock: true })).changed, false, 'locked: ok');
    await assert.rejects(login());

    const unlocked = await run(user, { name: 'phxkey', password_lock: false });
    assert.equal(unlocked.changed, true);
    assert.equal((await run(user, { name: 'phxkey', password_lock: false })).changed, false, 'unlocked: ok');
    assert.equal(await login(), 'phxkey');
  });
});
