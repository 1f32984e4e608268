// systemd_service's plan on recorded `systemctl show` output, following
// Ansible's lib/ansible/modules/systemd_service.py main(): mask/unmask, then
// enable/disable (is-enabled's states), then the state (started unless
// active/activating; reloaded/restarted start a stopped unit and register
// state `started`); fail_if_missing's message for a unit systemd does not know;
// parse_systemctl_show. Then on a lab host over SSH: nfs-server (installed,
// stopped, disabled on a fresh PVE node) started and enabled, second run ok,
// check mode exact, masked, an unknown unit; `service` there runs this module, as
// Ansible's action plugin (lib/ansible/plugins/action/service.py ActionModule.run) picks
// systemd by the node's service manager (service_mgr.py: PID 1 is systemd).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import svc, { parseShow, type Facts } from '../modules/systemd_service.js';
import service from '../modules/service.js';
import { comparable, useLabHost } from './harness/lab-fixture.js';

const ctx = { host: 'h', check: false, vars: {} };
const plan = (f: Facts, raw: unknown) => svc.plan(f, svc.args.parse(raw), ctx);
const show = (text: string): Facts => ({ status: parseShow(text) });
const steps = (p: ReturnType<typeof plan>) => p.changes.map((c) => c.argv!.join(' '));

// recorded: systemctl show -p Id,Names,LoadState,ActiveState,SubState,UnitFileState,FragmentPath,LoadError -- nginx
const STOPPED =
  'Id=nginx.service\nNames=nginx.service\nLoadState=loaded\nActiveState=inactive\nSubState=dead\nUnitFileState=disabled\nFragmentPath=/lib/systemd/system/nginx.service\n';
const RUNNING = STOPPED.replace('ActiveState=inactive', 'ActiveState=active')
  .replace('SubState=dead', 'SubState=running')
  .replace('UnitFileState=disabled', 'UnitFileState=enabled');
const NOT_FOUND =
  'Id=nope.service\nNames=nope.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nUnitFileState=\nFragmentPath=\n';

test('parse_systemctl_show: KEY=VALUE, Exec* { … } values may span lines', () => {
  assert.deepEqual(parseShow('A=1\nExecStart={ path=/bin/x ;\n argv[]=/bin/x }\nB= two words \n'), {
    A: '1',
    ExecStart: '{ path=/bin/x ;\n argv[]=/bin/x }',
    B: 'two words',
  });
});

test('started/stopped/restarted/reloaded as Ansible decides them; the result shape', () => {
  const p = plan(show(STOPPED), { name: 'nginx', state: 'started', enabled: true });
  assert.deepEqual(steps(p), ['systemctl enable -- nginx', 'systemctl start -- nginx']);
  assert.equal(p.result?.name, 'nginx');
  assert.equal(p.result?.state, 'started');
  assert.equal(p.result?.enabled, true);
  assert.equal((p.result?.status as Record<string, string>).ActiveState, 'inactive');
  assert.deepEqual(steps(plan(show(RUNNING), { name: 'nginx', state: 'started', enabled: true })), []);
  assert.deepEqual(steps(plan(show(RUNNING), { name: 'nginx', state: 'stopped' })), ['systemctl stop -- nginx']);
  assert.deepEqual(steps(plan(show(STOPPED), { name: 'nginx', state: 'stopped' })), []);
  const reload = plan(show(STOPPED), { service: 'nginx', state: 'reloaded' });
  assert.deepEqual([steps(reload), reload.result?.state], [['systemctl start -- nginx'], 'started']);
  assert.deepEqual(steps(plan(show(RUNNING), { unit: 'nginx', state: 'reloaded' })), ['systemctl reload -- nginx']);
  assert.deepEqual(steps(plan(show(RUNNING), { name: 'nginx', state: 'restarted' })), ['systemctl restart -- nginx']);
  const activating = show(RUNNING.replace('ActiveState=active', 'ActiveState=activating'));
  assert.deepEqual(steps(plan(activating, { name: 'nginx', state: 'started' })), []);
});

test('masked first; enabling a masked unit is refused; unknown units fail with fail_if_missing', () => {
  assert.deepEqual(steps(plan(show(RUNNING), { name: 'nginx', masked: true, state: 'stopped' })), [
    'systemctl mask -- nginx',
    'systemctl stop -- nginx',
  ]);
  const masked = show(
    STOPPED.replace('LoadState=loaded', 'LoadState=masked').replace('UnitFileState=disabled', 'UnitFileState=masked'),
  );
  assert.deepEqual(steps(plan(masked, { name: 'nginx', masked: false, enabled: true })), [
    'systemctl unmask -- nginx',
    'systemctl enable -- nginx',
  ]);
  assert.match(
    plan(masked, { name: 'nginx', state: 'started' }).fail!,
    /Unable to start service nginx: Unit nginx\.service is masked/,
  );
  assert.equal(
    plan(show(NOT_FOUND), { name: 'nope', state: 'started' }).fail,
    'Could not find the requested service nope: host',
  );
  assert.deepEqual(
    steps(plan(show(NOT_FOUND), { name: 'nope', masked: true })),
    ['systemctl mask -- nope'],
    'any name can be masked',
  );
  assert.deepEqual(steps(plan({ status: {} }, { daemon_reload: true })), ['systemctl daemon-reload']);
});

test('arguments: scope other than system refused clearly; globs and option-like names refused; something to do', () => {
  assert.match(
    JSON.stringify(svc.args.safeParse({ name: 'x', state: 'started', scope: 'user' }).error?.issues),
    /scope user is not supported/,
  );
  assert.match(JSON.stringify(svc.args.safeParse({ name: 'ngin*', state: 'started' }).error?.issues), /glob/);
  assert.equal(svc.args.safeParse({ name: '-x', state: 'started' }).success, false);
  assert.equal(svc.args.safeParse({ name: 'x' }).success, false);
  assert.equal(svc.args.safeParse({ state: 'started' }).success, false);
  assert.equal(svc.args.safeParse({ name: 'getty@tty1.service', state: 'started', no_block: true }).success, true);
});

// ---- on a lab hypervisor
const fx = useLabHost('phx-systemd-service-lab-');
const { run, exec } = fx;

test('lab: nfs-server started and enabled (check exact, second run ok), masked then refused, unknown unit', async () => {
  const args = { name: 'nfs-server', state: 'started', enabled: true };
  const check = await run(svc, args, { check: true });
  assert.equal((await exec('systemctl is-active nfs-server')).stdout, 'inactive\n', 'check mode changed nothing');
  const first = await run(svc, args);
  assert.equal(first.failed, undefined, String(first.msg));
  assert.equal(first.changed, true);
  const { status: _s1, ...c } = comparable(check);
  const { status: _s2, ...r } = comparable(first);
  assert.deepEqual(c, r);
  assert.equal((first.status as Record<string, string>).ActiveState, 'active');
  assert.equal((await exec('systemctl is-enabled nfs-server')).stdout, 'enabled\n');
  assert.equal((await run(svc, args)).changed, false);

  const restarted = await run(svc, { name: 'nfs-server', state: 'restarted' });
  assert.deepEqual([restarted.changed, restarted.state], [true, 'started']);
  assert.match((await exec('tail -1 /var/lib/phx-lab/systemctl.log')).stdout, / restart nfs-server\n$/);

  assert.equal((await run(svc, { name: 'cron', masked: true, state: 'stopped' })).changed, true);
  assert.equal((await exec('systemctl is-enabled cron')).stdout, 'masked\n');
  const refused = await run(svc, { name: 'cron', state: 'started' });
  assert.match(String(refused.msg), /Unit cron\.service is masked/);
  assert.equal((await run(svc, { name: 'cron', masked: false, state: 'started' })).changed, true);

  // systemd_service.py main(): daemon-reload runs whenever asked (not in check mode) and is never a change
  const reloads = async () => (await exec('grep -c " daemon-reload$" /var/lib/phx-lab/systemctl.log || true')).stdout;
  const before = await reloads();
  const reloadOnly = await run(svc, { daemon_reload: true });
  assert.deepEqual([reloadOnly.failed, reloadOnly.changed], [undefined, false], String(reloadOnly.msg));
  assert.notEqual(await reloads(), before, 'daemon-reload ran');
  const reloadChecked = await run(svc, { daemon_reload: true }, { check: true });
  assert.equal(reloadChecked.changed, false);
  const reloadAndStart = await run(svc, { name: 'nfs-server', state: 'started', daemon_reload: true });
  assert.deepEqual([reloadAndStart.failed, reloadAndStart.changed], [undefined, false], 'started already: ok');

  const missing = await run(svc, { name: 'no-such-unit', state: 'started' });
  assert.deepEqual([missing.failed, missing.msg], [true, 'Could not find the requested service no-such-unit: host']);
});

test('lab: service picks systemd on a PVE node (PID 1 is systemd) and restarts through systemctl', async () => {
  assert.equal((await exec('cat /proc/1/comm')).stdout, 'systemd\n', "the lab node's PID 1 reads as a PVE node's");
  const r = await run(service, { name: 'ssh', state: 'restarted' });
  assert.equal(r.failed, undefined, String(r.msg));
  assert.deepEqual([r.changed, r.state, (r.status as Record<string, string>).ActiveState], [true, 'started', 'active']);
  assert.match((await exec('tail -1 /var/lib/phx-lab/systemctl.log')).stdout, / restart ssh\n$/);
  // `use: service`: service.py's LinuxService, whose check_systemd finds systemd by PID 1's comm; unknown unit
  const initPath = await run(service, { name: 'phx-no-init-script', state: 'started', use: 'service' });
  assert.deepEqual(
    [initPath.failed, initPath.msg],
    [true, 'Could not find the requested service phx-no-init-script: host'],
  );
});
