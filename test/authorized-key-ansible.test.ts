// src/remote/authorized-keys.ts against ansible.posix's own enforce_state
// (plugins/modules/authorized_key.py), where Python and the collection are
// installed (Debian's `ansible` package ships it): the same file text and the
// same request through both, the written text and `changed` compared. The
// module's functions are called with a stand-in AnsibleModule (no check mode,
// atomic_move a rename) on a temp key file; nothing is hard-coded here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { enforceKeys, type KeyRequest } from '../src/remote/authorized-keys.js';

const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIK0mQn0a7qfK9kC8b6pZb3Jx2n4p8dWb0mJr8mKq0Abc';
const RSA = 'AAAAB3NzaC1yc2EAAAADAQABAAABAQC7x9Zk';
const EC = 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFq';

interface Case {
  before: string;
  r: KeyRequest;
}
const base = { state: 'present' as const, exclusive: false };
const FILE = `# team keys\nssh-rsa ${RSA} bob\n\nno-pty,from="10.0.0.1" ssh-ed25519 ${ED} alice\n# team keys\n`;
const CASES: Case[] = [
  { before: '', r: { ...base, key: `ssh-ed25519 ${ED} alice` } },
  { before: FILE, r: { ...base, key: `ssh-ed25519 ${ED} alice` } },
  { before: FILE, r: { ...base, key: `ssh-ed25519 ${ED} alice`, keyOptions: 'from="10.0.0.1",no-pty' } },
  { before: FILE, r: { ...base, key: `ssh-ed25519 ${ED} alice`, keyOptions: 'no-pty,from="10.0.0.1"' } },
  { before: FILE, r: { ...base, key: `ssh-rsa ${RSA} bob`, comment: 'bob@ci' } },
  { before: FILE, r: { ...base, key: `ecdsa-sha2-nistp256 ${EC} ci\n\n# x\nssh-rsa ${RSA} bob`, exclusive: true } },
  { before: FILE, r: { ...base, key: `ssh-ed25519 ${ED}`, state: 'absent' } },
  { before: FILE, r: { ...base, key: `ecdsa-sha2-nistp256 ${EC}`, state: 'absent' } },
  { before: FILE, r: { ...base, key: `command="echo a,b",no-pty ecdsa-sha2-nistp256 ${EC} c d` } },
  { before: `ssh-rsa ${RSA} one\nssh-rsa ${RSA} two\n`, r: { ...base, key: `ssh-ed25519 ${ED} x` } },
  { before: `garbage line\n\\# ssh-rsa ${RSA}\n`, r: { ...base, key: `ssh-ed25519 ${ED} x\r\nssh-rsa ${RSA} y` } },
  {
    before: FILE,
    r: { ...base, key: `ssh-ed25519 ${ED} alice`, exclusive: true, keyOptions: 'no-pty,from="10.0.0.1"' },
  },
];

const PY = String.raw`
import json, os, sys, tempfile
from ansible_collections.ansible.posix.plugins.modules import authorized_key as ak
class Fail(Exception): pass
class M:
    check_mode = False
    _diff = False
    def fail_json(self, **kw): raise Fail(kw.get('msg'))
    def exit_json(self, **kw): raise Fail('exit')
    def selinux_enabled(self): return False
    def add_cleanup_file(self, p): pass
    def atomic_move(self, src, dst): os.rename(src, dst)
out = []
for c in json.load(sys.stdin):
    d = tempfile.mkdtemp()
    p = os.path.join(d, 'authorized_keys')
    with open(p, 'w') as f: f.write(c['before'])
    params = dict(user='root', key=c['key'], path=p, manage_dir=False, state=c['state'],
                  key_options=c.get('keyOptions'), exclusive=c['exclusive'], comment=c.get('comment'), follow=False)
    try:
        r = ak.enforce_state(M(), params)
        with open(p) as f: out.append({'changed': bool(r.get('changed')), 'content': f.read()})
    except Fail as e:
        out.append({'invalid': str(e)})
print(json.dumps(out))
`;

test('enforce_state: the text and `changed` are ansible.posix’s own', (t) => {
  const probe = spawnSync(
    '/usr/bin/python3',
    ['-c', 'import ansible_collections.ansible.posix.plugins.modules.authorized_key'],
    {
      encoding: 'utf8',
    },
  );
  if (probe.status !== 0) return t.skip('/usr/bin/python3 with the ansible.posix collection is not installed');
  const input = CASES.map((c) => ({ before: c.before, ...c.r }));
  const py = spawnSync('/usr/bin/python3', ['-c', PY], { input: JSON.stringify(input), encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  const theirs = JSON.parse(py.stdout) as unknown[];
  CASES.forEach((c, i) => assert.deepEqual(enforceKeys(c.before, c.r), theirs[i], JSON.stringify(c)));
});
