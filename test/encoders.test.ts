// The encoders that stand between a value and a structured format (issue 11,
// item 2): every value with ",", "=", a line break, a NUL or a leading "-" is
// refused where the format would read it as structure.
// The property-string rules follow pve-common src/PVE/JSONSchema.pm:
// parse_property_string (splits on every ",", a part without "=" is the default
// key's value) and print_property_string ("illegal value with commas").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineProblem, operandProblem } from '../src/encode/line.js';
import { printMountOptions } from '../src/encode/mount-options.js';
import {
  printPropertyString,
  propertyStringProblem,
  propertyValueProblem,
  ValueRefused,
} from '../src/encode/property-string.js';
import * as z from 'zod';
import { listElementProblem, printCommaList } from '../src/encode/comma-list.js';
import {
  mountOptionValue,
  oneLine,
  operand,
  propertyRecord,
  propertyString,
  propertyValue,
} from '../src/encode/schemas.js';
import { argIssuesText } from '../src/executor/arg-issues.js';
import { parseStorageCfg, serializeStanza } from '../src/proxmox/storage-cfg.js';

const HOSTILE = ['vmbr0,firewall=0', 'a=b', 'x\nlxc.cap.drop:', 'x\r', 'x\0y'];

test('property values: a comma, an equals sign, a line break or a NUL is refused', () => {
  for (const v of HOSTILE) assert.ok(propertyValueProblem(v), v);
  for (const v of ['vmbr0', '10.0.0.2/24', 'noatime;nodev', 'local-zfs:subvol-105-disk-1', 'BC:24:11:2A:3B:4C'])
    assert.equal(propertyValueProblem(v), undefined, v);
});

test('printPropertyString writes default,key=value and refuses what would add a key', () => {
  assert.equal(
    printPropertyString('local-zfs:8', [
      ['mp', '/data'],
      ['ro', '1'],
    ]),
    'local-zfs:8,mp=/data,ro=1',
  );
  assert.equal(printPropertyString(undefined, [['name', 'eth0']]), 'name=eth0');
  assert.throws(() => printPropertyString(undefined, [['bridge', 'vmbr0,firewall=0']]), ValueRefused);
  assert.throws(() => printPropertyString('vol=x', []), /must not contain "="/);
  assert.throws(() => printPropertyString(undefined, [['Bad Key', '1']]), /not a property key/);
  assert.throws(() => printPropertyString(undefined, [['shared', '0,ro=0']]), /shared: "0,ro=0"/);
});

test('one-line values: line breaks and NUL refused; operands also refuse a leading dash', () => {
  assert.ok(lineProblem('web\nlxc.cap.drop: '));
  assert.ok(lineProblem('a\0'));
  assert.equal(lineProblem('-x'), undefined);
  assert.match(operandProblem('-u:x') ?? '', /option/);
  assert.match(operandProblem('--delete') ?? '', /option/);
  assert.equal(operandProblem('tank/ct'), undefined);
});

test('mount options: values with a comma cannot add an option', () => {
  assert.equal(
    printMountOptions([
      ['addr', '10.0.0.5'],
      ['rw', true],
      ['nfsvers', 4],
      ['soft', false],
    ]),
    'addr=10.0.0.5,rw,nfsvers=4',
  );
  assert.throws(() => printMountOptions([['addr', '10.0.0.5,ro=0']]), /would add a mount option/);
  assert.throws(() => printMountOptions([['a,b', '1']]), /not a mount option name/);
});

test('the zod forms refuse the same values with the encoder message', () => {
  const cases: [ReturnType<typeof oneLine>, string][] = [
    [oneLine(), 'a\nb'],
    [operand(), '-rf'],
    [propertyValue(), 'vmbr0,firewall=0'],
    [mountOptionValue(), 'x,ro'],
  ];
  for (const [schema, bad] of cases) {
    const r = schema.safeParse(bad);
    assert.equal(r.success, false, bad);
    assert.ok(r.error && r.error.issues[0].message.length > 10);
  }
  assert.equal(propertyValue().min(1).safeParse('vmbr0').success, true);
  assert.equal(propertyValue().optional().safeParse(undefined).success, true);
});

test('a whole property string: one line, no key twice (the keyless part is the default key)', () => {
  assert.equal(propertyStringProblem('name=eth0,bridge=vmbr0'), undefined);
  assert.match(propertyStringProblem('name=eth0,bridge=vmbr0,bridge=vmbr1') ?? '', /names bridge twice/);
  assert.match(propertyStringProblem('local:8,volume=other', 'volume') ?? '', /names volume twice/);
  assert.equal(propertyStringProblem('local:8,mp=/data', 'volume'), undefined);
  assert.match(propertyStringProblem('name=eth0\nlxc.cap.drop:') ?? '', /one line/);
});

test('comma lists: an element holding a comma would add an element', () => {
  assert.equal(printCommaList(['images', 'rootdir']), 'images,rootdir');
  assert.throws(() => printCommaList(['pve1', 'pve2,pve3']), /would add another element/);
  assert.match(listElementProblem('a\nb') ?? '', /one line/);
  assert.match(listElementProblem('') ?? '', /empty/);
});

test('a failed alternative is worded by the branch of the value’s own type', () => {
  const schema = z.object({ net0: z.union([propertyString(), propertyRecord()]) });
  const r = schema.safeParse({ net0: { bridge: 'vmbr0,firewall=0' } });
  assert.match(argIssuesText(r.error?.issues ?? []), /^net0\.bridge: must not contain commas/);
  const s = schema.safeParse({ net0: 'bridge=a,bridge=b' });
  assert.match(argIssuesText(s.error?.issues ?? []), /^net0: names bridge twice/);
});

test('storage.cfg: a section whose id is no storage id is skipped, as PVE skips it (never reaches pvesm remove)', () => {
  const defs = parseStorageCfg(
    'dir: local\n\tpath /var/lib/vz\n\ndir: --delete\n\tpath /x\n\nnfs: nas\n\tserver 10.0.0.5\n',
  );
  assert.deepEqual(
    defs.map((d) => d.id),
    ['local', 'nas'],
  );
  assert.throws(
    () => serializeStanza({ type: 'dir', id: 'a1', keys: { path: '/x\n\tshared 1' } }),
    /storage.cfg path: .* one line/,
  );
});

test('/etc/exports lines: a client, option or path cannot add a client, an option or an export', async () => {
  const { printExportsLine } = await import('../src/encode/exports-line.js');
  assert.equal(
    printExportsLine('/quickOS/shared', '10.0.0.0/24 pve2.lan', 'rw,sync,no_subtree_check'),
    '/quickOS/shared 10.0.0.0/24(rw,sync,no_subtree_check) pve2.lan(rw,sync,no_subtree_check)',
  );
  assert.equal(
    printExportsLine('/x', ['@admins', '*.lan', 'fe80::1'], 'ro,fsid=0'),
    '/x @admins(ro,fsid=0) *.lan(ro,fsid=0) fe80::1(ro,fsid=0)',
  );
  // exports(5): a blank separates clients, `(...)` holds options, a line is an export
  assert.throws(() => printExportsLine('/x', '10.0.0.0/24(rw,no_root_squash)', 'ro'), /client/);
  assert.throws(() => printExportsLine('/x', '10.0.0.1\n/ *', 'ro'), /client/);
  assert.throws(() => printExportsLine('/x', '10.0.0.1', 'ro) *(rw'), /option/);
  assert.throws(() => printExportsLine('/x', '10.0.0.1', 'ro,no_root_squash anyone'), /option/);
  assert.throws(() => printExportsLine('/x y', '10.0.0.1', 'ro'), /blanks/);
  assert.throws(() => printExportsLine('/x\n/ *(rw)', '10.0.0.1', 'ro'), /one line/);
  assert.throws(() => printExportsLine('relative', '10.0.0.1', 'ro'), /absolute/);
});

test('the exports_line template helper refuses as a template error (the task fails before writing)', async () => {
  const { renderString } = await import('../src/template/index.js');
  const vars = { clients: '10.0.0.1', evil: '10.0.0.1 *(rw,no_root_squash)' };
  assert.equal(renderString('{{ exports_line "/srv" clients "rw" }}', vars), '/srv 10.0.0.1(rw)');
  assert.throws(() => renderString('{{ exports_line "/srv" evil "rw" }}', vars), /exports_line: .*client/);
});
