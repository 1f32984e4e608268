// apt's plan on recorded facts (dpkg-query, apt-cache policy and stat output as
// Debian 12's tools print them), following Ansible's lib/ansible/modules/apt.py:
// install() (missing, pin not matching, latest with a newer candidate; the
// candidate pinned as name=version), remove() (installed, or config-files with
// purge), package_status()'s "No package matching", main()'s cache rule
// `mtime + cache_valid_time >= now` and the cache update being a change only
// when there is nothing else to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import apt, {
  APT_ENV,
  parseDpkgQuery,
  parsePolicy,
  parseSimulatedRemovals,
  fnmatch,
  type Facts,
} from '../modules/apt.js';

const ctx = { host: 'h', check: false, vars: {} };
const plan = (f: Facts, raw: unknown) => apt.plan(f, apt.args.parse(raw), ctx);

// recorded: dpkg-query -W --showformat='${Package}\t${Version}\t${db:Status-Status}\n' nginx curl nginx-common foo
const DPKG_QUERY = 'curl\t7.88.1-10+deb12u14\tinstalled\nnginx-common\t1.22.1-9+deb12u9\tconfig-files\n';
// recorded: apt-cache policy nginx curl foo (foo: "N: Unable to locate package foo" on stderr)
const POLICY = `nginx:
  Installed: (none)
  Candidate: 1.22.1-9+deb12u9
  Version table:
     1.22.1-9+deb12u9 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
curl:
  Installed: 7.88.1-10+deb12u13
  Candidate: 7.88.1-10+deb12u14
  Version table:
     7.88.1-10+deb12u14 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
 *** 7.88.1-10+deb12u13 100
        100 /var/lib/dpkg/status
nginx-common:
  Installed: (none)
  Candidate: 1.22.1-9+deb12u9
  Version table:
     1.22.1-9+deb12u9 500
        500 http://deb.debian.org/debian bookworm/main amd64 Packages
`;

function facts(over: Partial<Facts> = {}): Facts {
  const known = parseDpkgQuery(DPKG_QUERY);
  known.curl.version = '7.88.1-10+deb12u13';
  const cand = parsePolicy(POLICY);
  const packages: Facts['packages'] = {};
  for (const n of ['nginx', 'curl', 'nginx-common', 'foo']) packages[n] = { ...(known[n] ?? {}), candidate: cand[n] };
  return { packages, cacheMtime: 1_000_000, now: 1_000_100, autoremovable: [], ...over };
}

const argvs = (p: ReturnType<typeof plan>) => p.changes.map((c) => c.description);

test('parsers: dpkg-query lines, apt-cache policy stanzas ((none) is no candidate), apt-get -s removals', () => {
  assert.deepEqual(parseDpkgQuery(DPKG_QUERY), {
    curl: { status: 'installed', version: '7.88.1-10+deb12u14' },
    'nginx-common': { status: 'config-files', version: '1.22.1-9+deb12u9' },
  });
  assert.deepEqual(parsePolicy('x:\n  Installed: (none)\n  Candidate: (none)\n'), { x: undefined });
  assert.equal(parsePolicy(POLICY).curl, '7.88.1-10+deb12u14');
  assert.deepEqual(parseSimulatedRemovals('Remv nginx-common [1.22.1-9+deb12u9]\nPurg libx [1]\n'), [
    'nginx-common',
    'libx',
  ]);
  assert.ok(fnmatch('1.22.1-9+deb12u9', '1.22*'));
  assert.ok(!fnmatch('1.22.1-9+deb12u9', '1.21*'));
});

test('present: a missing package is installed pinned to its candidate (apt.py install: name=version_installable)', () => {
  const p = plan(facts(), { name: ['nginx', 'curl'] });
  assert.deepEqual(argvs(p), ['install nginx=1.22.1-9+deb12u9']);
  assert.deepEqual(p.result, { cache_updated: false, cache_update_time: 1_000_000 });
  assert.deepEqual(p.diff, {
    before: 'nginx (not installed)\n',
    after: 'nginx 1.22.1-9+deb12u9\n',
    before_header: 'packages',
    after_header: 'packages',
  });
  assert.deepEqual(argvs(plan(facts(), { name: 'curl' })), [], 'installed: nothing to do (any version)');
});

test('latest upgrades to the candidate; a pin that does not match the installed version installs the pin', () => {
  assert.deepEqual(argvs(plan(facts(), { name: 'curl', state: 'latest' })), ['install curl=7.88.1-10+deb12u14']);
  assert.deepEqual(argvs(plan(facts(), { name: 'curl=7.88.1-10+deb12u14' })), ['install curl=7.88.1-10+deb12u14']);
  assert.deepEqual(argvs(plan(facts(), { name: 'curl=7.88.1-10+deb12u13' })), []);
  assert.deepEqual(
    argvs(plan(facts(), { name: 'curl=7.88.1-10+deb12u1*' })),
    [],
    'a glob the installed version matches',
  );
});

test('an unknown package fails before anything runs, unless the cache is to be updated first', () => {
  const p = plan(facts(), { name: ['nginx', 'foo'] });
  assert.equal(p.fail, "No package matching 'foo' is available");
  assert.deepEqual(p.changes, []);
  const upd = plan(facts(), { name: 'foo', update_cache: true });
  assert.equal(upd.fail, undefined, 'the lists may know it after apt-get update (checked in apply)');
  assert.deepEqual(argvs(upd), ['install foo']);
  assert.equal(upd.result?.cache_updated, true);
});

test('absent: installed packages removed; config-files only purged with purge; a pin must match', () => {
  assert.deepEqual(argvs(plan(facts(), { name: ['curl', 'nginx', 'nginx-common'], state: 'absent' })), ['remove curl']);
  assert.deepEqual(argvs(plan(facts(), { name: 'nginx-common', state: 'removed', purge: true })), [
    'purge nginx-common',
  ]);
  assert.deepEqual(argvs(plan(facts(), { name: 'curl=1.0', state: 'absent' })), []);
});

test('cache: mtime + cache_valid_time >= now is fresh; the update alone is a change, with packages it is not', () => {
  const fresh = facts({ cacheMtime: 1_000_000, now: 1_000_100 });
  assert.deepEqual(argvs(plan(fresh, { update_cache: true, cache_valid_time: 3600 })), []);
  assert.deepEqual(argvs(plan(fresh, { update_cache: true })), ['update the apt cache'], 'valid time 0: always');
  assert.deepEqual(argvs(plan(fresh, { 'update-cache': true, cache_valid_time: 50 })), ['update the apt cache']);
  const withPkg = plan(fresh, { name: 'curl', update_cache: true });
  assert.deepEqual([argvs(withPkg), withPkg.result?.cache_updated], [[], true]);
  assert.deepEqual(argvs(plan(facts({ cacheMtime: 0 }), { cache_valid_time: 10 })), ['update the apt cache']);
});

test('deb: installed unless that version is; autoremove from apt-get -s; fixed/build-dep refused clearly', () => {
  const deb = facts({ deb: { name: 'hello', version: '1.0' } });
  deb.packages.hello = {};
  assert.deepEqual(argvs(plan(deb, { deb: '/root/hello_1.0_all.deb' })), [
    'install hello 1.0 from /root/hello_1.0_all.deb',
  ]);
  deb.packages.hello = { status: 'installed', version: '1.0' };
  assert.deepEqual(argvs(plan(deb, { deb: '/root/hello_1.0_all.deb' })), []);
  assert.deepEqual(argvs(plan(facts({ autoremovable: ['libx'] }), { autoremove: true })), ['autoremove libx']);
  assert.match(plan(facts(), { name: 'nginx', state: 'fixed' }).fail!, /state=fixed is not supported/);
  assert.match(plan(facts(), { name: 'nginx', state: 'build-dep' }).fail!, /state=build-dep is not supported/);
});

test('arguments: names follow Debian policy so no value becomes an option; aliases exclusive', () => {
  for (const bad of ['-y', '--purge', 'Nginx', 'nginx;rm', 'a b', 'ng*', 'x', 'nginx=1.0 -o'])
    assert.equal(apt.args.safeParse({ name: bad }).success, false, bad);
  for (const good of ['nginx', 'g++', 'libc6:amd64', 'nginx=1.22*', 'nfs-kernel-server=1:2.6.2-4+deb12u1'])
    assert.equal(apt.args.safeParse({ name: good }).success, true, good);
  assert.equal(apt.args.safeParse({ name: 'a1', pkg: 'b1' }).success, false);
  assert.equal(apt.args.safeParse({ deb: 'relative.deb' }).success, false);
  assert.equal(apt.args.safeParse({ deb: '/x.deb', name: 'a1' }).success, false);
  assert.equal(apt.args.safeParse({ state: 'present' }).success, false, 'nothing to do is an error, as in Ansible');
  assert.equal(apt.args.safeParse({ name: 'a1', force_apt_get: true, install_recommends: false }).success, true);
});

test("apt-get's environment rides the task environment: after the LC_ALL=C prefix, on stdin, over the task's", async () => {
  const { createModuleContext } = await import('../src/module-runner.js');
  const sent: { command: string; stdin?: string }[] = [];
  const conn = {
    kind: 'local' as const,
    connect: () => Promise.resolve(),
    exec: (command: string, o?: { stdin?: string | Buffer }) => {
      sent.push({ command, stdin: o?.stdin?.toString() });
      return Promise.resolve({ rc: 0, stdout: '', stderr: '' });
    },
    putFile: () => Promise.resolve(),
    getFile: () => Promise.resolve(null),
    close: () => Promise.resolve(),
  };
  const c = createModuleContext({ host: 'h', conn, env: { DEBIAN_FRONTEND: 'readline', HTTP_PROXY: 'http://p:3128' } });
  await c.run(['apt-get', '-y', 'install', 'nginx'], { env: APT_ENV });
  assert.match(sent[0].command, /^export LC_ALL=C; __phx_env=\$\(head -c \d+\)/);
  assert.doesNotMatch(sent[0].command, /noninteractive/, 'values never on the command line');
  assert.match(sent[0].stdin!, /^export DEBIAN_FRONTEND='?noninteractive'?$/m);
  assert.match(sent[0].stdin!, /^export HTTP_PROXY='?http:\/\/p:3128'?$/m, "the task's own environment stays");
  assert.doesNotMatch(sent[0].stdin!, /readline/);
});
