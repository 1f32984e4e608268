// Fact parsers on recorded real outputs (a Debian 12 VM: /etc/os-release,
// /etc/debian_version, /proc/meminfo, /proc/cpuinfo, `ip route get`, `ip addr
// show`, /proc/mounts), each pinned to the Ansible routine it follows
// (lib/ansible/module_utils/facts/...).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterFacts, factsFromSections, pveFact, resolveSubsets } from '../src/facts/collect.js';
import { distributionFacts, parseOsRelease } from '../src/facts/distribution.js';
import { cpuFacts, memoryFacts, mountFacts } from '../src/facts/hardware.js';
import { mergeGatheredFacts } from '../src/facts/merge.js';
import { networkFacts, parseRouteGet } from '../src/facts/network.js';
import { factsScript, splitSections } from '../src/facts/script.js';
import { dateTimeFacts, envFacts, pkgMgrFact, serviceMgrFact, userFacts } from '../src/facts/system.js';
import { isUnsafeText } from '../src/unsafe.js';
import { pvecfgText } from '../lab/sim/pvecfg.js';
import { runCli, workspace } from './helpers/cli.js';

const OS_RELEASE_DEBIAN12 = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`;

const OS_RELEASE_UBUNTU2404 = `PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
UBUNTU_CODENAME=noble
`;

const MEMINFO = `MemTotal:       24683784 kB
MemFree:        23132300 kB
MemAvailable:   23518944 kB
Buffers:           20512 kB
Cached:           524508 kB
SwapCached:            0 kB
SwapTotal:             0 kB
SwapFree:              0 kB
`;

const CPUINFO = `processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model name\t: AMD EPYC
physical id\t: 0
siblings\t: 2
core id\t\t: 0
cpu cores\t: 2

processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 25
model name\t: AMD EPYC
physical id\t: 0
siblings\t: 2
core id\t\t: 1
cpu cores\t: 2

nproc 2
`;

const ROUTE4 = '8.8.8.8 via 192.0.2.1 dev eth0 src 192.0.2.2 uid 0 \n    cache \n';
const ROUTE6 = '2404:6800:400a:800::1012 from :: via fd00::1 dev eth0 src fd00::2 metric 1024 pref medium\n';
const IP_ADDR = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
    inet6 ::1/128 scope host 
       valid_lft forever preferred_lft forever
2: ifb0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default qlen 32
    link/ether b2:fe:d1:80:ea:34 brd ff:ff:ff:ff:ff:ff
4: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 qdisc pfifo_fast state UP group default qlen 1000
    link/ether 02:fc:00:00:00:01 brd ff:ff:ff:ff:ff:ff
    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0
       valid_lft forever preferred_lft forever
    inet 192.0.2.9/24 scope global secondary eth0:1
       valid_lft forever preferred_lft forever
    inet6 fd00::2/64 scope global nodad 
       valid_lft forever preferred_lft forever
    inet6 fe80::fc:ff:fe00:1/64 scope link 
       valid_lft forever preferred_lft forever
`;
// the script's /sys/class/net line per interface: name address mtu operstate type flags [bridge]
const SYSNET = `eth0 02:fc:00:00:00:01 1400 up 1 0x1003 
ifb0 b2:fe:d1:80:ea:34 1500 down 1 0x82 
lo 00:00:00:00:00:00 65536 unknown 772 0x9 
vmbr0 02:fc:00:00:00:07 1500 up 1 0x1103 bridge
`;

const MOUNTS = `proc /proc proc rw,relatime 0 0
devtmpfs /dev devtmpfs rw,relatime,size=12334792k,nr_inodes=3083698,mode=755 0 0
/dev/vda / ext4 rw,relatime,discard 0 0
192.0.2.5:/export/iso /mnt/pve/iso\\040share nfs4 rw,relatime,vers=4.2 0 0
none /mnt/x none rw 0 0

@@statvfs
4096 6400000 5000000 5200000 1600000 1500000 /
@@uuids
vda 0f3e2a4c-1b2d-4e5f-8a9b-0c1d2e3f4a5b
`;

test('os-release (os-release(5)): quotes and escapes undone, unquoted values kept', () => {
  const o = parseOsRelease(OS_RELEASE_DEBIAN12 + 'X="a \\"q\\" b"\n');
  assert.equal(o.PRETTY_NAME, 'Debian GNU/Linux 12 (bookworm)');
  assert.equal(o.VERSION_CODENAME, 'bookworm');
  assert.equal(o.X, 'a "q" b');
});

test('distribution.py: Debian with /etc/debian_version (distro best=True), Ubuntu, an unknown os-release (NA parser)', () => {
  const { osRelease: _, ...debian } = distributionFacts({ osRelease: OS_RELEASE_DEBIAN12, debianVersion: '12.11\n' });
  assert.deepEqual(debian, {
    distribution: 'Debian',
    distribution_version: '12.11',
    distribution_major_version: '12',
    distribution_release: 'bookworm',
    os_family: 'Debian',
  });
  // a Debian testing host: debian_version is a codename, the os-release version stands
  assert.equal(
    distributionFacts({ osRelease: OS_RELEASE_DEBIAN12, debianVersion: 'trixie/sid' }).distribution_version,
    '12',
  );
  const ubuntu = distributionFacts({ osRelease: OS_RELEASE_UBUNTU2404, debianVersion: 'trixie/sid' });
  assert.deepEqual(
    [ubuntu.distribution, ubuntu.distribution_version, ubuntu.distribution_release, ubuntu.os_family],
    ['Ubuntu', '24.04', 'noble', 'Debian'],
  );
  const other = distributionFacts({ osRelease: 'NAME="Foo OS"\nID=foo\nVERSION="3 (x)"\n' });
  assert.deepEqual([other.distribution, other.distribution_version, other.os_family], ['Foo OS', '3 (x)', 'Foo OS']);
  const rocky = distributionFacts({
    osRelease: 'NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.4"\n',
    redhatRelease: 'Rocky Linux release 9.4 (Blue Onyx)\n',
  });
  assert.deepEqual([rocky.distribution, rocky.os_family, rocky.distribution_major_version], ['Rocky', 'RedHat', '9']);
});

test('hardware/linux.py get_memory_facts and get_cpu_facts: MB by kB // 1024; vcpus = threads × cores × sockets', () => {
  assert.deepEqual(memoryFacts(MEMINFO), { memtotal_mb: 24105, memfree_mb: 22590, swaptotal_mb: 0, swapfree_mb: 0 });
  const cpu = cpuFacts(CPUINFO, 'x86_64');
  assert.deepEqual(
    [
      cpu.processor_count,
      cpu.processor_cores,
      cpu.processor_threads_per_core,
      cpu.processor_vcpus,
      cpu.processor_nproc,
    ],
    [1, 2, 1, 2, 2],
  );
  assert.deepEqual(cpu.processor, ['0', 'AuthenticAMD', 'AMD EPYC', '1', 'AuthenticAMD', 'AMD EPYC']);
  // two sockets of 4 cores with hyperthreading
  const big = [0, 1]
    .flatMap((sock) =>
      [0, 1, 2, 3].flatMap((core) =>
        [0, 1].map(
          () =>
            `processor\t: x\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\nphysical id\t: ${sock}\nsiblings\t: 8\ncore id\t\t: ${core}\ncpu cores\t: 4\n`,
        ),
      ),
    )
    .join('\n');
  assert.equal(cpuFacts(big, 'x86_64').processor_vcpus, 16);
});

test('hardware/linux.py get_mount_facts: device paths and network shares only, octal escapes undone, statvfs sizes, lsblk UUID', () => {
  const m = mountFacts(MOUNTS);
  assert.deepEqual(
    m.map((x) => x.mount),
    ['/', '/mnt/pve/iso share'],
  );
  assert.deepEqual(m[0], {
    mount: '/',
    device: '/dev/vda',
    fstype: 'ext4',
    options: 'rw,relatime,discard',
    dump: 0,
    passno: 0,
    size_total: 4096 * 6400000,
    size_available: 4096 * 5000000,
    block_size: 4096,
    block_total: 6400000,
    block_available: 5000000,
    block_used: 1200000,
    inode_total: 1600000,
    inode_available: 1500000,
    inode_used: 100000,
    uuid: '0f3e2a4c-1b2d-4e5f-8a9b-0c1d2e3f4a5b',
  });
  assert.equal(m[1].uuid, 'N/A');
  assert.equal(m[1].size_total, undefined, 'no statvfs line (a hung share timed out): no sizes');
});

test('network/linux.py get_default_interfaces and get_interfaces_info on `ip route get` / `ip addr show` / /sys/class/net', () => {
  assert.deepEqual(parseRouteGet(ROUTE4, '8.8.8.8'), { gateway: '192.0.2.1', interface: 'eth0', address: '192.0.2.2' });
  assert.deepEqual(parseRouteGet('RTNETLINK answers: Network is unreachable\n', '8.8.8.8'), {});
  // a direct route: "via" absent
  assert.deepEqual(parseRouteGet('8.8.8.8 dev eth0 src 10.0.0.5 uid 0\n', '8.8.8.8'), {
    interface: 'eth0',
    address: '10.0.0.5',
  });
  const n = networkFacts({ route4: ROUTE4, route6: ROUTE6, addr: IP_ADDR, sysnet: SYSNET });
  // a labelled address's name joins when its line is read (right after its device), ':' made '_'
  assert.deepEqual(n.interfaces, ['eth0', 'eth0_1', 'ifb0', 'lo', 'vmbr0']);
  assert.deepEqual(n.default_ipv4, {
    gateway: '192.0.2.1',
    interface: 'eth0',
    address: '192.0.2.2',
    broadcast: '192.0.2.255',
    netmask: '255.255.255.0',
    network: '192.0.2.0',
    prefix: '24',
    macaddress: '02:fc:00:00:00:01',
    mtu: 1400,
    type: 'ether',
    alias: 'eth0',
  });
  assert.equal(n.default_ipv6.address, 'fd00::2');
  assert.equal(n.default_ipv6.prefix, '64');
  assert.deepEqual(n.all_ipv4_addresses, ['192.0.2.2', '192.0.2.9'], 'loopback left out');
  assert.deepEqual(n.all_ipv6_addresses, ['fd00::2', 'fe80::fc:ff:fe00:1']);
  const eth0 = n.perInterface.eth0;
  assert.equal(eth0.active, true);
  assert.equal(eth0.promisc, false);
  assert.deepEqual(
    (eth0.ipv4_secondaries as Array<{ address: string }>).map((a) => a.address),
    ['192.0.2.9'],
  );
  assert.equal(n.perInterface.lo.type, 'loopback');
  assert.equal(n.perInterface.lo.macaddress, undefined, 'the all-zero address is no MAC');
  assert.equal(n.perInterface.vmbr0.type, 'bridge');
  assert.equal(n.perInterface.vmbr0.promisc, true);
});

test('date_time.py, env.py, user.py, pkg_mgr.py, service_mgr.py on their sources', () => {
  const d = dateTimeFacts('2026 12 Monday 1 49 07 04 05 06 1796612706 123456789 CET +0100\nCET +0100\nCEST +0200\n');
  assert.equal(d.iso8601, '2026-12-07T03:05:06Z', 'UTC from the epoch');
  assert.equal(d.iso8601_micro, '2026-12-07T03:05:06.123456Z');
  assert.equal(d.iso8601_basic, '20261207T040506123456');
  assert.deepEqual(
    [d.date, d.time, d.tz, d.tz_dst, d.tz_offset, d.weekday],
    ['2026-12-07', '04:05:06', 'CET', 'CEST', '+0100', 'Monday'],
  );
  assert.deepEqual(envFacts('HOME=/root\0MULTI=a\nb\0PATH=/usr/bin\0\n'), {
    HOME: '/root',
    MULTI: 'a\nb',
    PATH: '/usr/bin',
  });
  assert.deepEqual(userFacts('root\n0\n0\n0\n0\nroot:x:0:0:root:/root:/bin/bash\n'), {
    user_id: 'root',
    user_uid: 0,
    user_gid: 0,
    real_user_id: 0,
    effective_user_id: 0,
    real_group_id: 0,
    effective_group_id: 0,
    user_gecos: 'root',
    user_dir: '/root',
    user_shell: '/bin/bash',
  });
  assert.equal(pkgMgrFact('/usr/bin/apt-get\n/usr/bin/dnf\n', 'Debian'), 'apt', 'a Debian-family host always apt');
  assert.equal(pkgMgrFact('/usr/bin/yum\n/usr/bin/dnf\n', 'RedHat'), 'dnf');
  assert.equal(pkgMgrFact('', 'Foo'), 'unknown');
  assert.equal(serviceMgrFact('comm systemd\nrun-systemd\ninit.d\n'), 'systemd');
  assert.equal(serviceMgrFact('comm bash\nrun-systemd\n'), 'systemd', 'a shell as PID 1 says nothing');
  assert.equal(serviceMgrFact('comm init\ninit.d\n'), 'sysvinit');
  assert.equal(serviceMgrFact('comm procd\n'), 'openwrt_init', 'proc_1_map');
  assert.equal(serviceMgrFact('comm constructor\n'), 'constructor', 'a name, not a lookup on a prototype');
  assert.equal(serviceMgrFact('comm sleep\n'), 'sleep', "PID 1's name, as Ansible reports it in a container");
});

test('pve fact: version and kernel from pvecfg.pm + uname -r, node from uname -n, cluster from corosync.conf', () => {
  const corosync =
    'nodelist {\n  node {\n    name: pve2\n    nodeid: 2\n  }\n  node {\n    name: pve1\n    nodeid: 1\n  }\n}\n' +
    'totem {\n  cluster_name: prod\n  version: 2\n}\n';
  assert.deepEqual(pveFact(pvecfgText('8.4.1'), '6.8.12-9-pve', 'pve1.example.org', corosync), {
    version: '8.4.1',
    major: 8,
    minor: 4,
    kernel: '6.8.12-9-pve',
    node: 'pve1',
    cluster: 'prod',
    cluster_nodes: ['pve1', 'pve2'],
  });
  assert.equal(pveFact(pvecfgText('9.1.1'), '6.14.8-2-pve', 'pve9', undefined)?.cluster, null, 'standalone');
  assert.equal(pveFact(undefined, '6.1.0', 'deb', undefined), undefined, 'no PVE host, no pve fact');
  const broken = pveFact(pvecfgText('9.1.1'), '6.14.8-2-pve', 'pve9', 'totem {\n cluster_name prod\n}\n');
  assert.match(String(broken?.cluster_error), /missing ':'/);
  assert.ok(broken && !('cluster' in broken), 'never guessed standalone');
});

test('gather_subset as collector.get_collector_names; filter on names with or without ansible_', () => {
  assert.deepEqual(resolveSubsets(['all']).sort(), [
    'date_time',
    'distribution',
    'env',
    'hardware',
    'network',
    'pkg_mgr',
    'platform',
    'pve',
    'service_mgr',
    'user',
  ]);
  assert.ok(!resolveSubsets(['!all']).includes('network'), '!all keeps min only');
  assert.ok(resolveSubsets(['!all']).includes('distribution'));
  assert.deepEqual(resolveSubsets(['!all', '!min', 'network']), ['network'], 'an explicit name survives !all');
  assert.deepEqual(resolveSubsets(['!hardware']).includes('hardware'), false);
  assert.throws(() => resolveSubsets(['nonsense']), /Bad subset 'nonsense'/);
  // min always comes first, so a list of exclusions alone leaves min (the "nothing added: all" rule never fires)
  assert.deepEqual(resolveSubsets(['!nonsense']), resolveSubsets(['min']), 'excluding an unknown subset is ignored');
  assert.equal(resolveSubsets(['min']).length, 8);
  const facts = { hostname: 'h', eth0: {}, eth1: {}, env: {} };
  assert.deepEqual(Object.keys(filterFacts(facts, ['ansible_eth*'])), ['eth0', 'eth1']);
  assert.deepEqual(Object.keys(filterFacts(facts, ['hostname'])), ['hostname']);
});

test('the script: one section per source, split back by its random marker; host text cannot forge a section', () => {
  const { script, marker } = factsScript(['env', 'uname', 'meminfo']);
  assert.ok(
    script.indexOf(`${marker} env`) < script.indexOf('PATH="$PATH:/usr/sbin:/sbin"'),
    'env read before the PATH change',
  );
  const printed = `\n${marker} env\nA=1\0\n${marker} uname\nh\n@@phx-facts-000000000000 meminfo\nMemTotal: 1 kB\n${marker} end\n`;
  const s = splitSections(printed, marker);
  assert.deepEqual(Object.keys(s), ['env', 'uname']);
  assert.equal(factsFromSections(s, ['platform']).hostname, 'h');
});

test('gathered facts: ansible_* names and ansible_facts without the prefix, later gathers add, all of it unsafe', () => {
  const gathered: Record<string, unknown> = {};
  mergeGatheredFacts(gathered, { ansible_hostname: '{{ evil }}', module_setup: true });
  mergeGatheredFacts(gathered, { ansible_pve: { node: 'pve1' } });
  assert.ok(isUnsafeText(gathered.ansible_hostname));
  const af = gathered.ansible_facts as Record<string, unknown>;
  assert.deepEqual(Object.keys(af).sort(), ['hostname', 'module_setup', 'pve']);
  assert.ok(isUnsafeText(af.hostname));
  assert.ok(isUnsafeText((af.pve as Record<string, unknown>).node));
});

test('host-chosen names stay data: interfaces called __proto__ and constructor, an env var called __proto__', () => {
  const sysnet = '__proto__ 02:00:00:00:00:01 1500 up 1 0x1003 \nconstructor 02:00:00:00:00:02 1500 up 1 0x1003 \n';
  const addr =
    '5: __proto__: <UP> mtu 1500\n    inet 10.1.0.1/24 scope global __proto__\n' +
    '6: constructor: <UP> mtu 1500\n    inet 10.2.0.1/24 scope global constructor\n    inet 10.2.0.2/24 scope global secondary constructor:1\n';
  const facts = factsFromSections({ sysnet, addr }, ['network']);
  assert.deepEqual(facts.interfaces, ['__proto__', 'constructor', 'constructor_1']);
  assert.equal(Object.getPrototypeOf(facts), Object.prototype);
  assert.ok(Object.hasOwn(facts, '__proto__'));
  assert.equal(
    (Object.getOwnPropertyDescriptor(facts, '__proto__')!.value as { ipv4: { address: string } }).ipv4.address,
    '10.1.0.1',
  );
  assert.equal(({} as Record<string, unknown>).ipv4, undefined, 'nothing reached Object.prototype');
  assert.equal((Object as unknown as Record<string, unknown>).ipv4_secondaries, undefined);
  const env = envFacts('__proto__=x\0A=1\0');
  assert.ok(Object.hasOwn(env, '__proto__'));
  const gathered: Record<string, unknown> = {};
  mergeGatheredFacts(gathered, { ansible___proto__: { a: 1 } });
  assert.ok(Object.hasOwn(gathered.ansible_facts as object, '__proto__'));
  assert.equal(Object.getPrototypeOf(gathered.ansible_facts), Object.prototype);
});

test('a play with an unknown gather_subset name: a located error before anything runs', async () => {
  const ws = workspace({
    'p.yml':
      '- hosts: localhost\n  gather_facts: true\n  gather_subset: [network, bogus]\n  tasks:\n    - debug: { msg: hi }\n',
  });
  try {
    const r = await runCli(['-i', 'localhost,', ws.path('p.yml')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /p\.yml:3:\d+: Bad subset 'bogus' given to gather_subset/);
    assert.match(r.stdout + r.stderr, /nothing was run/);
  } finally {
    ws.cleanup();
  }
});
