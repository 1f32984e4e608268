// pct against a lab host made as strict as real PVE (issue 18): each sim test pins one
// behaviour of proxmox/pve-container (source file and function named), and each module
// test puts the host in the state a real one would be in, runs pct, and checks what the
// real tool leaves: volume ids and MACs kept, the commands sent, a second run ok, the CT
// still running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pct from '../modules/pct.js';
import { useLabHost } from './harness/lab-fixture.js';

const TEMPLATE = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

const fx = useLabHost('phx-pct-real-');
const run: typeof fx.run = (...a) => fx.run(...a);
const sh = (command: string) => fx.sh(command);
const exec = (command: string) => fx.exec(command);
const setFaults: typeof fx.setFaults = (faults) => fx.setFaults(faults);
const { commands } = fx;
const conf = (id: number) => sh(`pct config ${id}`);
const key = async (id: number, k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(await conf(id))?.[1];
/** the commands a module sent from now on (what -vv shows) */
const sentFrom = (n: number) =>
  commands
    .slice(n)
    .map((c) => c.replace(/^export LC_ALL=C; /, '')) // every command line starts in the C locale
    .filter((c) => /^pct (set|resize|shutdown|stop|destroy|create)/.test(c));

// ---- the simulator, as strict as the real tools

test('sim: pct create without --unprivileged makes a privileged CT (PVE 8 schema default 0)', async () => {
  // src/PVE/LXC/Config.pm $confdesc->{unprivileged} default => 0; API2/LXC.pm create_vm sets 1
  // only since pve-container 6.0.6 (PVE 9): a caller always passes it
  await sh(`pct create 300 ${TEMPLATE}`);
  assert.equal(await key(300, 'unprivileged'), undefined);
  await sh(`pct create 301 ${TEMPLATE} --unprivileged 1`);
  assert.equal(await key(301, 'unprivileged'), '1');
});

test('sim: pct set storage:size on an existing mpN allocates a new volume; the old one stays as unusedN', async () => {
  // src/PVE/LXC/Config.pm apply_pending_mountpoint: $NEW_DISK_RE (src/PVE/LXC.pm) → create_disks,
  // then add_unused_volume for the old volume
  await sh(`pct create 302 ${TEMPLATE} --unprivileged 1 --mp0 local:1,mp=/data`);
  const old = (await key(302, 'mp0'))!.split(',')[0];
  await sh('pct set 302 --mp0 local:1,mp=/data,ro=1');
  const now = (await key(302, 'mp0'))!.split(',')[0];
  assert.notEqual(now, old, 'a new, empty volume');
  assert.equal(await key(302, 'unused0'), old, 'the data is left as unused0');
  // vmconfig_apply_pending: removing a volume mpN leaves it as unusedN too (at the next start when running)
  await sh('pct start 302 && pct set 302 --delete mp0');
  assert.equal(await key(302, 'unused1'), undefined, 'pending while running');
  await sh('pct stop 302 && pct start 302');
  assert.equal(await key(302, 'unused1'), now);
});

test('sim: netN without hwaddr gets a new MAC', async () => {
  // src/PVE/LXC/Config.pm update_pct_config → parse/print_lxc_network: a missing hwaddr is generated
  await sh(`pct create 303 ${TEMPLATE} --unprivileged 1 --net0 name=eth0,bridge=vmbr0,ip=dhcp`);
  const mac = /hwaddr=([^,]+)/.exec((await key(303, 'net0'))!)![1];
  await sh('pct set 303 --net0 name=eth0,bridge=vmbr0,ip=dhcp,firewall=1');
  assert.notEqual(/hwaddr=([^,]+)/.exec((await key(303, 'net0'))!)![1], mac);
});

test('sim: nameserver/searchdomain stored space-joined, tags unique, lower-cased, sorted, ;-joined', async () => {
  // src/PVE/LXC.pm verify_nameserver_list / verify_searchdomain_list (PVE::ParseUtils::split_list,
  // join ' '); pve-guest-common src/PVE/GuestHelpers.pm get_unique_tags (default tag-style)
  await sh(`pct create 304 ${TEMPLATE} --unprivileged 1`);
  await sh("pct set 304 --nameserver '1.1.1.1,8.8.8.8;9.9.9.9' --searchdomain 'a.lan, b.lan' --tags 'Web;db,web'");
  assert.equal(await key(304, 'nameserver'), '1.1.1.1 8.8.8.8 9.9.9.9');
  assert.equal(await key(304, 'searchdomain'), 'a.lan b.lan');
  assert.equal(await key(304, 'tags'), 'db;web');
});

test('sim: a protected CT refuses mount point updates/removals and destroy, with the real messages', async () => {
  // pve-guest-common AbstractConfig.pm check_protection; src/PVE/LXC/Config.pm update_pct_config
  // ("can't update/remove CT $vmid drive '$opt'"); src/PVE/API2/LXC.pm destroy_vm ("can't remove CT $vmid")
  await sh(`pct create 305 ${TEMPLATE} --unprivileged 1 --mp0 local:1,mp=/data --protection 1`);
  let r = await exec('pct set 305 --mp0 local:1,mp=/data,ro=1');
  assert.equal(r.stderr.trim(), "can't update CT 305 drive 'mp0' - protection mode enabled");
  r = await exec('pct set 305 --delete mp0');
  assert.equal(r.stderr.trim(), "can't remove CT 305 drive 'mp0' - protection mode enabled");
  r = await exec('pct destroy 305');
  assert.equal(r.stderr.trim(), "can't remove CT 305 - protection mode enabled");
  assert.notEqual(r.rc, 0);
  assert.equal(await key(305, 'protection'), '1');
});

test('sim: pct destroy refuses HA resources and replication jobs without --purge; --purge removes them', async () => {
  // src/PVE/API2/LXC.pm destroy_vm $early_checks; pve-guest-common ReplicationConfig.pm check_for_existing_jobs
  await sh(`pct create 306 ${TEMPLATE} --unprivileged 1 && pct create 307 ${TEMPLATE} --unprivileged 1`);
  await sh(
    "mkdir -p /etc/pve/ha && printf 'ct: 306\\n\\tstate started\\n\\nct: 999\\n\\tstate started\\n' > /etc/pve/ha/resources.cfg",
  );
  await sh("printf 'local: 307-0\\n\\ttarget pve2\\n\\tschedule */15\\n' > /etc/pve/replication.cfg");
  let r = await exec('pct destroy 306');
  assert.equal(r.stderr.trim(), 'unable to remove CT 306 - used in HA resources and purge parameter not set.');
  r = await exec('pct destroy 307');
  assert.equal(r.stderr.trim(), "There is a replication job '307-0' for guest '307' - Please remove that first.");
  await sh('pct start 306');
  r = await exec('pct destroy 306 --purge 1');
  assert.equal(r.stderr.trim(), 'unable to destroy CT 306 - container is running');
  await sh('pct stop 306 && pct destroy 306 --purge 1 && pct destroy 307 --purge 1');
  assert.doesNotMatch(await sh('cat /etc/pve/ha/resources.cfg'), /ct: 306/);
  assert.match(await sh('cat /etc/pve/ha/resources.cfg'), /ct: 999/, 'other resources kept');
  assert.doesNotMatch(await sh('cat /etc/pve/replication.cfg'), /307-0/);
  await sh('rm -f /etc/pve/ha/resources.cfg /etc/pve/replication.cfg');
});

test('sim: pct shutdown times out on a hanging CT ("container did not stop"); --forceStop 1 stops it', async () => {
  // src/PVE/API2/LXC/Status.pm vm_shutdown (timeout default 60, forceStop); src/PVE/LXC.pm vm_stop
  await sh(`pct create 308 ${TEMPLATE} --unprivileged 1 && pct start 308`);
  await setFaults({ shutdownHang: 1 });
  try {
    const r = await exec('pct shutdown 308 --timeout 1');
    assert.notEqual(r.rc, 0);
    assert.match(r.stderr, /container did not stop\n$/);
    assert.equal((await sh('pct status 308')).trim(), 'status: running');
    await sh('pct shutdown 308 --timeout 1 --forceStop 1');
    assert.equal((await sh('pct status 308')).trim(), 'status: stopped');
  } finally {
    await setFaults({});
  }
});

test('sim: pct resize grows only', async () => {
  // src/PVE/API2/LXC.pm resize_vm: "unable to shrink disk size", "disk is already at specified size"
  await sh(`pct create 309 ${TEMPLATE} --unprivileged 1 --mp0 local:2,mp=/data`);
  assert.equal((await exec('pct resize 309 mp0 1G')).stderr.trim(), 'unable to shrink disk size');
  assert.equal((await exec('pct resize 309 mp0 2G')).stderr.trim(), 'disk is already at specified size');
  await sh('pct resize 309 mp0 3G');
  assert.match((await key(309, 'mp0'))!, /,size=3G$/);
});

// ---- the module on such a host

test('pct: a changed option of an existing volume mount keeps its volume id (pending on a running CT); second run ok', async () => {
  const want = {
    ctid: 320,
    state: 'started',
    ostemplate: TEMPLATE,
    mounts: [{ path: '/vol', volume: 'local:1' }],
  };
  assert.equal((await run(pct, want)).failed, undefined);
  const volume = (await key(320, 'mp0'))!.split(',')[0];
  const n = commands.length;
  const r = await run(pct, { ...want, mounts: [{ path: '/vol', volume: 'local:1', ro: true, backup: false }] });
  assert.equal(r.failed, undefined, String(r.msg));
  // src/PVE/LXC/Config.pm apply_pending_mountpoint: `local:1` would be a new empty volume
  assert.deepEqual(sentFrom(n), [`pct set 320 --mp0 ${volume},mp=/vol,backup=0,ro=1`]);
  assert.equal(r.restart_required, true, 'a changed mount of a running CT waits for its restart');
  assert.match(await sh('pct pending 320'), new RegExp(`^new mp0: ${volume},mp=/vol,backup=0,ro=1$`, 'm'));
  assert.doesNotMatch(await conf(320), /^unused/m, 'no volume was replaced');
  const again = await run(pct, { ...want, mounts: [{ path: '/vol', volume: 'local:1', ro: true, backup: false }] });
  assert.equal(again.changed, false, String(again.msg));
  assert.equal((await sh('pct status 320')).trim(), 'status: running');
});

test('pct: a larger storage:<GiB> is a pct resize, a smaller one is refused before anything is sent', async () => {
  const want = { ctid: 321, ostemplate: TEMPLATE, mounts: [{ path: '/vol', volume: 'local:1' }] };
  assert.equal((await run(pct, want)).failed, undefined);
  const volume = (await key(321, 'mp0'))!.split(',')[0];
  let n = commands.length;
  const grow = await run(pct, { ...want, mounts: [{ path: '/vol', volume: 'local:2' }] });
  assert.equal(grow.failed, undefined, String(grow.msg));
  assert.deepEqual(sentFrom(n), ['pct resize 321 mp0 2G']);
  assert.equal(await key(321, 'mp0'), `${volume},mp=/vol,size=2G`);
  assert.equal((await run(pct, { ...want, mounts: [{ path: '/vol', volume: 'local:2' }] })).changed, false);
  n = commands.length;
  const shrink = await run(pct, want);
  assert.equal(shrink.failed, true);
  assert.match(String(shrink.msg), /mp0 \(\/vol\) is 2G; shrinking it to 1G is not possible/);
  assert.deepEqual(sentFrom(n), []);
});

test('pct: a changed netN keeps its hwaddr; the running CT stays up; second run ok', async () => {
  const want = {
    ctid: 322,
    state: 'started',
    ostemplate: TEMPLATE,
    net0: { name: 'eth0', bridge: 'vmbr0', ip: 'dhcp' },
  };
  assert.equal((await run(pct, want)).failed, undefined);
  const mac = /hwaddr=([^,]+)/.exec((await key(322, 'net0'))!)![1];
  const changed = { ...want, net0: { name: 'eth0', bridge: 'vmbr0', ip: '10.0.0.5/24', gw: '10.0.0.1' } };
  const n = commands.length;
  const r = await run(pct, changed);
  assert.equal(r.failed, undefined, String(r.msg));
  assert.deepEqual(sentFrom(n), [`pct set 322 --net0 name=eth0,bridge=vmbr0,ip=10.0.0.5/24,gw=10.0.0.1,hwaddr=${mac}`]);
  assert.match((await key(322, 'net0'))!, new RegExp(`hwaddr=${mac}`));
  assert.equal((await run(pct, changed)).changed, false);
  assert.equal((await sh('pct status 322')).trim(), 'status: running');
});

test('pct: values compared as PVE stores them (nameserver, searchdomain, tags, features, startup, booleans)', async () => {
  // src/PVE/LXC/Config.pm update_pct_config: verify_nameserver_list, verify_searchdomain_list, get_unique_tags
  const want = {
    ctid: 323,
    state: 'started',
    ostemplate: TEMPLATE,
    nameserver: '1.1.1.1, 8.8.8.8',
    searchdomain: 'a.lan;b.lan',
    tags: 'Web,db',
    features: { nesting: true, keyctl: true },
    startup: { up: 30, order: 2 },
    onboot: true,
    protection: false,
    memory: 1024,
    cpulimit: 1.5,
  };
  const first = await run(pct, want);
  assert.equal(first.failed, undefined, String(first.msg));
  assert.equal(await key(323, 'nameserver'), '1.1.1.1 8.8.8.8');
  assert.equal(await key(323, 'searchdomain'), 'a.lan b.lan');
  assert.equal(await key(323, 'tags'), 'db;web');
  const n = commands.length;
  const again = await run(pct, want);
  assert.equal(again.changed, false, String(again.msg));
  assert.deepEqual(sentFrom(n), []);
  assert.equal((await sh('pct status 323')).trim(), 'status: running');
});

test('pct: a mount change on a protected CT is refused before any command; protection: false lifts it first', async () => {
  const want = { ctid: 324, ostemplate: TEMPLATE, protection: true, mounts: [{ path: '/vol', volume: 'local:1' }] };
  assert.equal((await run(pct, want)).failed, undefined);
  let n = commands.length;
  const refused = await run(pct, { ...want, mounts: [{ path: '/vol', volume: 'local:1', ro: true }] });
  assert.equal(refused.failed, true);
  assert.match(String(refused.msg), /CT 324 is protected .*can't update CT 324 drive 'mp0' - protection mode enabled/);
  assert.deepEqual(sentFrom(n), []);
  n = commands.length;
  const lifted = await run(pct, {
    ...want,
    protection: false,
    mounts: [{ path: '/vol', volume: 'local:1', ro: true }],
  });
  assert.equal(lifted.failed, undefined, String(lifted.msg));
  // two calls (one batch): check_protection reads the config as it is before the pct set
  assert.match(sentFrom(n).join('\n'), /^pct set 324 --protection 0 && pct set 324 --mp0 local:\S+,mp=\/vol,ro=1$/);
  assert.match((await key(324, 'mp0'))!, /,ro=1/);
});

test('pct absent: protection, HA and replication refuse before anything is stopped; force_protection / purge proceed', async () => {
  // src/PVE/API2/LXC.pm destroy_vm: check_protection, HA without purge, check_for_existing_jobs
  await sh(`pct create 325 ${TEMPLATE} --unprivileged 1 --protection 1 && pct start 325`);
  let n = commands.length;
  const prot = await run(pct, { ctid: 325, state: 'absent' });
  assert.equal(prot.failed, true);
  assert.match(String(prot.msg), /protected .*force_protection: true/);
  assert.deepEqual(sentFrom(n), []);
  assert.equal((await sh('pct status 325')).trim(), 'status: running');
  const forced = await run(pct, { ctid: 325, state: 'absent', force_protection: true });
  assert.equal(forced.failed, undefined, String(forced.msg));
  assert.equal((await exec('test -e /etc/pve/lxc/325.conf')).rc, 1);

  await sh(
    `pct create 326 ${TEMPLATE} --unprivileged 1 && pct start 326 && pct create 327 ${TEMPLATE} --unprivileged 1`,
  );
  await sh("mkdir -p /etc/pve/ha && printf 'ct: 326\\n\\tstate started\\n' > /etc/pve/ha/resources.cfg");
  await sh("printf 'local: 327-0\\n\\ttarget pve2\\n\\tschedule */15\\n' > /etc/pve/replication.cfg");
  n = commands.length;
  const ha = await run(pct, { ctid: 326, state: 'absent' });
  assert.equal(ha.failed, true);
  assert.match(String(ha.msg), /HA resource .*ha-manager remove ct:326 .*purge: true/);
  const repl = await run(pct, { ctid: 327, state: 'absent' });
  assert.equal(repl.failed, true);
  assert.match(String(repl.msg), /replication jobs \(327-0 .*pvesr delete 327-0/);
  assert.deepEqual(sentFrom(n), []);
  assert.equal((await sh('pct status 326')).trim(), 'status: running');

  n = commands.length;
  assert.equal((await run(pct, { ctid: 326, state: 'absent', purge: true })).failed, undefined);
  assert.deepEqual(sentFrom(n), ['pct destroy 326 --force 1 --purge 1']);
  assert.equal((await run(pct, { ctid: 327, state: 'absent', purge: true })).failed, undefined);
  assert.doesNotMatch(await sh('cat /etc/pve/ha/resources.cfg /etc/pve/replication.cfg'), /326|327/);
});

test('pct shutdown: a hanging CT fails the task after shutdown_timeout; force_stop stops it', async () => {
  // src/PVE/API2/LXC/Status.pm vm_shutdown → src/PVE/LXC.pm vm_stop: "container did not stop"
  await sh(`pct create 328 ${TEMPLATE} --unprivileged 1 && pct start 328`);
  await setFaults({ shutdownHang: 1 });
  try {
    const n = commands.length;
    const hung = await run(pct, { ctid: 328, state: 'stopped', shutdown_timeout: 1 });
    assert.equal(hung.failed, true);
    assert.match(String(hung.msg), /container did not stop/);
    assert.deepEqual(sentFrom(n), ['pct shutdown 328 --timeout 1']);
    assert.equal((await sh('pct status 328')).trim(), 'status: running');
    const forced = await run(pct, { ctid: 328, state: 'stopped', shutdown_timeout: 1, force_stop: true });
    assert.equal(forced.failed, undefined, String(forced.msg));
    assert.equal((await sh('pct status 328')).trim(), 'status: stopped');
  } finally {
    await setFaults({});
  }
});
