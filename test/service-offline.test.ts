// Issue 15 item 7: service and systemd where systemd does not run as PID 1 (a
// chroot, a container without systemd). Plans on recorded answers, following
// ansible/ansible lib/ansible/modules/systemd_service.py main() (request_was_ignored,
// its `else:` branch: is-enabled, then list-unit-files; masked by is-enabled; the
// state left alone with a warning when is_chroot (module_utils/facts/system/chroot.py)
// or SYSTEMD_OFFLINE=1, else "Service is in unknown state"), lib/ansible/plugins/
// action/service.py ActionModule.run (the module by service_mgr, `use`) and
// lib/ansible/modules/service.py LinuxService (get_service_tools' check_systemd and
// order, get_service_status, check_service_changed, modify_service_state, service_control's
// restart as stop then start, service_enable's update-rc.d branch). Then the fixture
// playbook test/fixtures/service-offline/site.yml run as root in test/compat/sandbox.sh's
// throwaway root, whose end state and recap must be what ansible-playbook 2.14 gave
// (expected.json; live again with PHX_COMPAT_LIVE=1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import systemd, { OFFLINE_WARNING, requestWasIgnored, type Facts, type Offline } from '../modules/systemd_service.js';
import service, { isRunning, type InitFacts } from '../modules/service.js';
import { repoRoot } from './helpers/cli.js';
import { ansibleInstalled, compare, runInSandbox, sandboxUsable, type EndState } from './helpers/compat.js';

const ctx = { host: 'h', check: false, vars: {} };
const steps = (p: { changes: { argv?: string[] }[] }) => p.changes.map((c) => c.argv!.join(' '));

// ---- systemd_service.py main() without a running manager
const sdPlan = (f: Facts, raw: unknown) => systemd.plan(f, systemd.args.parse(raw), ctx);
const offline = (o: Partial<Offline>): Facts => ({
  status: {},
  offline: {
    isEnabled: '',
    isEnabledRc: 1,
    listed: false,
    initScript: false,
    sysvEnabled: false,
    chroot: true,
    offlineEnv: false,
    ...o,
  },
});

test("request_was_ignored: systemctl's chroot answer, not a show with values", () => {
  assert.equal(requestWasIgnored("Running in chroot, ignoring command 'show'\n"), true);
  assert.equal(requestWasIgnored('Running in chroot, ignoring request.\n'), true);
  assert.equal(requestWasIgnored('Id=ssh.service\nDescription=ignoring command\n'), false);
  assert.equal(requestWasIgnored(''), false);
});

test('offline mask: is-enabled says masked or not; any name can be masked (devsec ctrl-alt-del)', () => {
  // recorded in the sandbox: `systemctl is-enabled ctrl-alt-del.target` prints alias (exit 0), then masked (exit 1)
  const alias = offline({ isEnabled: 'alias', isEnabledRc: 0, listed: true });
  assert.deepEqual(steps(sdPlan(alias, { name: 'ctrl-alt-del.target', masked: true, daemon_reload: true })), [
    'systemctl daemon-reload',
    'systemctl mask -- ctrl-alt-del.target',
  ]);
  const masked = offline({ isEnabled: 'masked', isEnabledRc: 1 });
  assert.deepEqual(steps(sdPlan(masked, { name: 'ctrl-alt-del.target', masked: true })), []);
  assert.deepEqual(steps(sdPlan(masked, { name: 'ctrl-alt-del.target', masked: false })), [
    'systemctl unmask -- ctrl-alt-del.target',
  ]);
  // no unit file, no init script: masking still asked (systemd masks any name), enabling is fail_if_missing
  assert.deepEqual(steps(sdPlan(offline({}), { name: 'nope', masked: true })), ['systemctl mask -- nope']);
  assert.equal(
    sdPlan(offline({}), { name: 'nope', enabled: true }).fail,
    'Could not find the requested service nope: host',
  );
});

test("offline enabled: is-enabled's exit code; indirect and alias are disabled; an init script's start links", () => {
  const enabled = offline({ isEnabled: 'enabled', isEnabledRc: 0 });
  assert.deepEqual(steps(sdPlan(enabled, { name: 'ssh', enabled: true })), []);
  assert.deepEqual(steps(sdPlan(enabled, { name: 'ssh', enabled: false })), ['systemctl disable -- ssh']);
  const indirect = offline({ isEnabled: 'indirect', isEnabledRc: 0 });
  assert.deepEqual(steps(sdPlan(indirect, { name: 'x', enabled: true })), ['systemctl enable -- x']);
  const disabled = offline({ isEnabled: 'disabled', isEnabledRc: 1 });
  assert.deepEqual(steps(sdPlan(disabled, { name: 'x', enabled: true })), ['systemctl enable -- x']);
  // rc 1 without "disabled", an init script with start links: enabled (main()'s sysv_is_enabled test)
  const sysv = offline({ isEnabled: '', isEnabledRc: 1, initScript: true, sysvEnabled: true });
  const p = sdPlan(sysv, { name: 'legacy', enabled: true });
  assert.deepEqual(steps(p), []);
  assert.deepEqual(p.result?.warnings, [
    'The service (legacy) is actually an init script but the system is managed by systemd',
  ]);
});

test('offline state: left alone with the warning in a chroot or with SYSTEMD_OFFLINE=1, else unknown state', () => {
  const known = { isEnabled: 'enabled', isEnabledRc: 0 };
  for (const where of [{ chroot: true }, { chroot: false, offlineEnv: true }]) {
    const p = sdPlan(offline({ ...known, ...where }), { name: 'ssh', state: 'restarted' });
    assert.deepEqual(
      [steps(p), p.fail, p.result?.state, p.result?.warnings],
      [[], undefined, 'restarted', [OFFLINE_WARNING]],
    );
  }
  const container = offline({ ...known, chroot: false });
  assert.equal(sdPlan(container, { name: 'ssh', state: 'started' }).fail, 'Service is in unknown state');
  // fail_if_missing comes first; the mask and enable before it are still planned
  assert.equal(
    sdPlan(offline({}), { name: 'nope', state: 'started' }).fail,
    'Could not find the requested service nope: host',
  );
  const both = sdPlan(offline({ isEnabled: 'disabled', isEnabledRc: 1 }), {
    name: 'x',
    enabled: true,
    state: 'started',
  });
  assert.deepEqual([steps(both), both.result?.warnings], [['systemctl enable -- x'], [OFFLINE_WARNING]]);
});

// ---- service: the action plugin's choice and service.py's LinuxService for init scripts
const svcPlan = (f: InitFacts, raw: unknown) => service.plan({ kind: 'init', init: f }, service.args.parse(raw), ctx);
const TOOLS = { service: '/usr/sbin/service', 'update-rc.d': '/usr/sbin/update-rc.d', systemctl: '/usr/bin/systemctl' };
const init = (o: Partial<InitFacts>): InitFacts => ({
  serviceMgr: 'sysvinit',
  tools: TOOLS,
  initScript: true,
  systemdRuns: false,
  upstartJob: false,
  startLinks: false,
  killLinks: false,
  ...o,
});
const stopped = { rc: 3, stdout: 'phx-demo is not running\n' };
const running = { rc: 0, stdout: 'phx-demo is running\n' };

test('get_service_status: LSB exit codes, then the keywords of one line (the name taken out), then exit 0', () => {
  assert.equal(isRunning('x', { rc: 3, stdout: 'x is running\n' }), false, 'rc 3 first');
  assert.equal(isRunning('x', { rc: 0, stdout: 'x is running\n' }), true);
  assert.equal(isRunning('x', { rc: 0, stdout: 'x is not running\n' }), false);
  assert.equal(isRunning('x', { rc: 0, stdout: 'stopped\n' }), false);
  assert.equal(isRunning('runner', { rc: 0, stdout: 'runner: ok\n' }), true, 'the name does not count as "run"');
  assert.equal(isRunning('x', { rc: 5, stdout: 'x: could not access PID file\n' }), false);
  assert.equal(isRunning('x', { rc: 5, stdout: 'line one\nline two\n' }), null, 'nothing tells');
  assert.equal(isRunning('iptables', { rc: 5, stdout: 'a\nChain INPUT (policy ACCEPT)\n' }), true);
});

test('LinuxService: started/stopped/reloaded/restarted as check_service_changed decides; restart is stop then start', () => {
  const p = svcPlan(init({ status: stopped }), { name: 'phx-demo', state: 'started', enabled: true });
  assert.deepEqual(steps(p), [
    '/usr/sbin/update-rc.d phx-demo defaults',
    '/usr/sbin/update-rc.d phx-demo enable',
    '/usr/sbin/service phx-demo start',
  ]);
  assert.deepEqual([p.result?.state, p.result?.enabled], ['started', true]);
  // kill links already there (disabled before): enable only; start links: nothing to enable
  assert.deepEqual(steps(svcPlan(init({ killLinks: true, status: running }), { name: 'd', enabled: true })), [
    '/usr/sbin/update-rc.d d enable',
  ]);
  assert.deepEqual(steps(svcPlan(init({ startLinks: true, status: running }), { name: 'd', enabled: true })), []);
  assert.deepEqual(steps(svcPlan(init({ startLinks: true }), { name: 'd', enabled: false })), [
    '/usr/sbin/update-rc.d d disable',
  ]);
  assert.deepEqual(steps(svcPlan(init({ status: running }), { name: 'd', state: 'started' })), []);
  assert.deepEqual(steps(svcPlan(init({ status: stopped }), { name: 'd', state: 'reloaded' })), [
    '/usr/sbin/service d start',
  ]);
  assert.deepEqual(steps(svcPlan(init({ status: running }), { name: 'd', state: 'reloaded' })), [
    '/usr/sbin/service d reload',
  ]);
  const restart = svcPlan(init({ status: stopped }), { name: 'd', state: 'restarted' });
  assert.deepEqual(
    [steps(restart), restart.result?.state],
    [['/usr/sbin/service d stop', '/usr/sbin/service d start'], 'started'],
  );
  assert.deepEqual(steps(svcPlan(init({ status: stopped }), { name: 'd', state: 'stopped' })), []);
  // no `service` binary: the init script itself
  const bare = init({ tools: { 'update-rc.d': '/usr/sbin/update-rc.d' }, status: running });
  assert.deepEqual(steps(svcPlan(bare, { name: 'd', state: 'stopped' })), ['/etc/init.d/d stop']);
  assert.equal(
    svcPlan(init({ status: { rc: 7, stdout: 'a\nb\n' } }), { name: 'd', state: 'started' }).fail,
    'failed determining service state, possible typo of service name?',
  );
});

test("get_service_tools: no init script is fail_if_missing's message; upstart and OpenRC refused as not driven", () => {
  assert.equal(
    svcPlan(init({ initScript: false }), { name: 'nope', state: 'started' }).fail,
    'Could not find the requested service nope: host',
  );
  assert.match(
    String(
      svcPlan(init({ tools: { ...TOOLS, initctl: '/sbin/initctl' }, upstartJob: true }), {
        name: 'j',
        state: 'started',
      }).fail,
    ),
    /upstart/,
  );
  assert.match(
    String(
      svcPlan(init({ tools: { ...TOOLS, 'rc-service': '/sbin/rc-service' } }), { name: 'j', state: 'started' }).fail,
    ),
    /OpenRC/,
  );
  assert.match(
    String(
      svcPlan(init({ tools: { service: '/usr/sbin/service', chkconfig: '/sbin/chkconfig' } }), {
        name: 'j',
        enabled: true,
      }).fail,
    ),
    /chkconfig is not supported/,
  );
});

test('hostile names: never an option, never a second command; one of state, enabled', () => {
  for (const name of ['-x', '--now', 'a b', 'a;reboot', '$(id)', 'a\nb', 'ngin*'])
    assert.equal(service.args.safeParse({ name, state: 'started' }).success, false, name);
  assert.equal(service.args.safeParse({ name: 'x' }).success, false);
  assert.equal(service.args.safeParse({ name: 'x', state: 'started', masked: true }).success, false, 'strict');
  // the name is one argv element after the tool (systemctl: after --)
  const p = svcPlan(init({ status: stopped }), { name: 'a\\x2db@c', state: 'started' });
  assert.deepEqual(p.changes[0].argv, ['/usr/sbin/service', 'a\\x2db@c', 'start']);
});

// ---- the fixture playbook in the throwaway root, against ansible-playbook's recorded run
const fixtureDir = join(repoRoot, 'test', 'fixtures', 'service-offline');
const expected = JSON.parse(readFileSync(join(fixtureDir, 'expected.json'), 'utf8')) as EndState;

test('sandbox: service and systemd without a running systemd end as ansible-playbook ended', async (t) => {
  const unusable = sandboxUsable();
  if (unusable) return t.skip(unusable);
  const ours = await runInSandbox('phx-play', fixtureDir, 'site.yml');
  assert.deepEqual(compare(ours, expected), [], ours.output);
  // the init script's own log says what ran: start, reload, stop+start (restart), stop
  assert.ok(expected.state.some((l) => l.endsWith('/var/log/phx-demo.log')));
  if (process.env.PHX_COMPAT_LIVE !== '1' || !ansibleInstalled()) return;
  const live = await runInSandbox('ansible-playbook', fixtureDir, 'site.yml');
  assert.deepEqual(compare(live, expected), [], `the fixture is not what ansible-playbook does here:\n${live.output}`);
});
