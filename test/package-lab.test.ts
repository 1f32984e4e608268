// package on a lab host (the lab's dpkg/apt): the backend chosen as Ansible's action plugin
// chooses it (lib/ansible/plugins/action/package.py, ActionModule.run: `use`, else the
// ansible_package_use variable, else ansible_facts.pkg_mgr, else the setup module's pkg_mgr
// collector, lib/ansible/module_utils/facts/system/pkg_mgr.py PkgMgrFactCollector), then apt
// run with the task's arguments (apt.py main(): its state choices, its own arguments); check
// mode, idempotence, and any other package manager refused as not supported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pkg from '../modules/package.js';
import apt from '../modules/apt.js';
import { useLabHost } from './harness/lab-fixture.js';
import type { ModuleResult } from '../src/module.js';
import { createModuleContext, runModule } from '../src/module-runner.js';

const fx = useLabHost('phx-package-lab-');
const { exec } = fx;

/** package with these task variables (the gathered facts, ansible_package_use), recording the commands. */
async function run(
  raw: unknown,
  o: { check?: boolean; vars?: Record<string, unknown> } = {},
): Promise<{ r: ModuleResult; commands: string[] }> {
  const commands: string[] = [];
  const ctx = createModuleContext({
    host: fx.host,
    conn: fx.conn,
    check: o.check,
    vars: o.vars,
    onCommand: (c) => commands.push(c),
  });
  return { r: await runModule(pkg, pkg.args.parse(raw), ctx), commands };
}

const dpkgStatus = async (name: string) =>
  (await exec(`dpkg-query -W --showformat='\${db:Status-Status} \${Version}' ${name}`)).stdout;
const probed = (commands: string[]) => commands.some((c) => c.includes('/usr/bin/apt-get') && c.includes('rpm-ostree'));

test('arguments: apt.py main() rules when apt runs (state choices without installed/removed, its own arguments)', () => {
  // apt.py: state choices absent, build-dep, fixed, latest, present; `installed` is dnf/yum's, refused
  for (const state of ['installed', 'removed'])
    assert.throws(
      () => pkg.args.parse({ name: 'htop', state }),
      /value of state must be one of: absent, build-dep, fixed, latest, present, got: /,
    );
  // the backend's own arguments pass through (the action plugin copies the task's arguments)
  const a = pkg.args.parse({ name: 'htop', state: 'latest', update_cache: true, install_recommends: false });
  assert.equal(a.update_cache, true);
  assert.throws(() => pkg.args.parse({ name: 'htop', no_such_argument: 1 }), /no_such_argument/);
  // a value is never an option for apt-get
  assert.throws(() => pkg.args.parse({ name: '--force-yes' }));
  assert.throws(() => pkg.args.parse({ name: 'htop,--force-yes' }));
  // apt.py's name is type='list': a string is split at commas (check_type_list), each package stripped
  assert.deepEqual(apt.args.parse({ name: 'htop, curl' }).name, ['htop', 'curl']);
  assert.deepEqual(apt.args.parse({ name: 'htop' }).name, ['htop']);
  // another backend's arguments are for that backend (refused when it runs, as not supported)
  assert.equal(pkg.args.parse({ name: 'httpd', use: 'yum', disablerepo: '*' }).use, 'yum');
});

test('no facts: the pkg_mgr probe finds apt; check mode predicts and changes nothing; install; again ok', async () => {
  const check = await run({ name: 'htop', state: 'present' }, { check: true });
  assert.equal(check.r.failed, undefined, String(check.r.msg));
  assert.equal(check.r.changed, true);
  assert.match(String(check.r.msg), /install htop=3\.2\.2-2/);
  assert.ok(probed(check.commands), 'setup pkg_mgr read the host');
  assert.equal(await dpkgStatus('htop'), '', 'nothing installed by check mode');

  const first = await run({ name: ['htop'] });
  assert.equal(first.r.failed, undefined, String(first.r.msg));
  assert.equal(first.r.changed, true);
  assert.match(String(first.r.stdout), /Setting up htop \(3\.2\.2-2\)/);
  assert.equal(await dpkgStatus('htop'), 'installed 3.2.2-2');

  const again = await run({ name: 'htop', state: 'latest' });
  assert.equal(again.r.changed, false);
  assert.equal(again.r.failed, undefined);
});

test('the gathered ansible_facts.pkg_mgr is used without a probe; absent twice', async () => {
  const vars = { ansible_facts: { pkg_mgr: 'apt' } };
  const gone = await run({ name: 'htop', state: 'absent' }, { vars });
  assert.equal(gone.r.failed, undefined, String(gone.r.msg));
  assert.equal(gone.r.changed, true);
  assert.ok(!probed(gone.commands), 'no probe with the fact gathered');
  assert.equal(await dpkgStatus('htop'), '');
  assert.equal((await run({ name: 'htop', state: 'absent' }, { vars })).r.changed, false);
});

test('another package manager, by use, ansible_package_use or the fact: not supported, nothing runs', async () => {
  const byUse = await run({ name: 'htop', use: 'dnf' });
  assert.equal(byUse.r.failed, true);
  assert.match(String(byUse.r.msg), /package manager 'dnf' \(given by use\) is not supported by phx-play: only apt/);
  assert.deepEqual(byUse.commands, []);

  const byFact = await run({ name: 'htop' }, { vars: { ansible_facts: { pkg_mgr: 'zypper' } } });
  assert.equal(byFact.r.failed, true);
  assert.match(String(byFact.r.msg), /'zypper' \(given by ansible_facts\.pkg_mgr\) is not supported/);

  // ansible_package_use comes before the fact (action/package.py: "use config")
  const configured = await run(
    { name: 'htop', state: 'absent' },
    { vars: { ansible_package_use: 'apt', ansible_facts: { pkg_mgr: 'zypper' } } },
  );
  assert.equal(configured.r.failed, undefined, String(configured.r.msg));
  // use: apt wins over a fact naming another manager
  const explicit = await run(
    { name: 'htop', state: 'absent', use: 'ansible.legacy.apt' },
    { vars: { ansible_facts: { pkg_mgr: 'yum' } } },
  );
  assert.equal(explicit.r.failed, undefined, String(explicit.r.msg));
  assert.equal(explicit.r.changed, false);
});

test('an unknown package: apt.py install()’s failure', async () => {
  const r = await run({ name: 'no-such-package' }, { vars: { ansible_facts: { pkg_mgr: 'apt' } } });
  assert.equal(r.r.failed, true);
  assert.equal(r.r.msg, "No package matching 'no-such-package' is available");
});
