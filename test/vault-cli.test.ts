// Vault through the real CLI (issue 15 item 6): `phx-play vault` round trips and
// edit; a playbook whose vars come from a vaulted vars file and an inline `!vault`
// value, run on the local connection; a wrong password is a located error; a vault
// value (or a value derived from one) appears in no output (-v…-vvv, --diff, --json,
// debug var=) and on no command line of the host.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runCli, workspace } from './helpers/cli.js';
import { encrypt } from '../src/vault/format.js';

type Ws = ReturnType<typeof workspace>;

const PASSWORD = 'correct-horse-battery';
const INLINE_SECRET = 'inline-canary-4242';
const FILE_SECRET = 'file-canary-7777';
const NESTED_SECRET = 'nested-canary-3131';
const GROUP_SECRET = 'group-canary-8080';
const GROUP_VARS = `group_secret: ${GROUP_SECRET}\n`;
const VARS_FILE = `file_secret: ${FILE_SECRET}\nfile_creds: { user: admin, token: ${NESTED_SECRET} }\n`;

const vaultText = (plaintext: string, label?: string) => encrypt(Buffer.from(plaintext), Buffer.from(PASSWORD), label);
const indented = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `          ${l}`)
    .join('\n');

const PLAYBOOK = (inline: string) => `
- hosts: h1
  vars_files: [secret-vars.yml]
  vars:
    inline_secret: !vault |
${inline}
  gather_facts: false
  tasks:
    - name: write both secrets into a file
      copy: { content: "{{ inline_secret }}:{{ file_secret }}:{{ group_secret }}\\n", dest: "{{ playbook_dir }}/out/both.txt", mode: "0600" }
    - name: debug var of a secret
      debug: var=inline_secret
    - name: debug var of a secret from a vaulted group_vars file
      debug: var=group_secret
    - name: debug var of a mapping from the vaulted file
      debug: var=file_creds
    - name: "a name showing {{ inline_secret }}"
      debug: { msg: "named" }
    - name: debug of a value derived from a secret
      debug: { msg: "{{ b64encode file_secret }}" }
    - name: set a fact derived from a secret
      set_fact: { derived: "{{ upper inline_secret }}" }
    - name: debug of that fact, in a later task
      debug: { var: derived }
    - name: register the output of a command given the secret on stdin-side environment
      shell: 'printf "%s" "$S" | rev'
      environment: { S: "{{ inline_secret }}" }
      register: reversed
    - name: debug of that registered result, in a later task
      debug: { var: reversed.stdout }
    - name: list every process while the secret is in the environment
      shell: 'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f" 2>/dev/null; echo; done > {{ playbook_dir }}/out/procs.txt; printf "%s" "$S" > {{ playbook_dir }}/out/env.txt'
      environment: { S: "{{ inline_secret }}" }
    - name: a secret on a command line is refused
      command: echo {{ file_secret }}
      ignore_errors: true
    - name: a task without secrets is shown as usual
      debug: { msg: "visible-marker" }
`;

const reversed = (s: string) => [...s].reverse().join('');
const FORBIDDEN = [
  INLINE_SECRET,
  FILE_SECRET,
  Buffer.from(FILE_SECRET).toString('base64'),
  NESTED_SECRET,
  GROUP_SECRET,
  INLINE_SECRET.toUpperCase(),
  reversed(INLINE_SECRET),
];

describe('a playbook with a vaulted vars file, a vaulted group_vars file and an inline !vault value', () => {
  let ws: Ws;
  const run = (...flags: string[]) =>
    runCli(['-i', ws.path('inv.yml'), '--vault-password-file', ws.path('pw.txt'), ...flags, ws.path('pb.yml')], {
      cwd: ws.dir,
    });
  before(() => {
    ws = workspace();
    ws.write('inv.yml', 'all:\n  hosts:\n    h1: { ansible_connection: local }\n');
    ws.write('pw.txt', `${PASSWORD}\n`);
    ws.write('wrong.txt', 'not-the-password\n');
    ws.write('secret-vars.yml', vaultText(VARS_FILE));
    ws.write('group_vars/all.yml', vaultText(GROUP_VARS));
    ws.write('pb.yml', PLAYBOOK(indented(vaultText(INLINE_SECRET, 'prod'))));
    ws.write('out/.keep', '');
  });
  after(() => ws.cleanup());

  it('decrypts both: the host gets the plaintext (a file, an environment variable)', async () => {
    const r = await run();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(ws.path('out/both.txt'), 'utf8'), `${INLINE_SECRET}:${FILE_SECRET}:${GROUP_SECRET}\n`);
    assert.equal(readFileSync(ws.path('out/env.txt'), 'utf8'), INLINE_SECRET);
  });

  it('no process on the host had the secret on its command line; a command line holding it was refused', async () => {
    const r = await run();
    const procs = readFileSync(ws.path('out/procs.txt'), 'utf8').split('\n').filter(Boolean);
    assert.ok(procs.length > 2, 'the process list was read');
    assert.ok(!procs.some((p) => p.includes(INLINE_SECRET)), 'a process argv shows the secret');
    assert.match(r.stdout, /a vault secret would be on the command line of the host/);
  });

  const variants: [string, string[]][] = [
    ['default', []],
    ['-v', ['-v']],
    ['-vvv', ['-vvv']],
    ['--diff -vvv', ['--diff', '-vvv']],
    ['--check --diff -vv', ['--check', '--diff', '-vv']],
    ['--json -vvv', ['--json', '-vvv']],
  ];
  for (const [name, flags] of variants) {
    it(`${name}: no secret, nor a value derived from one, appears in the output`, async () => {
      const r = await run(...flags);
      const all = r.stdout + r.stderr;
      assert.ok([0, 2].includes(r.code), all);
      assert.ok(all.includes('visible-marker'), 'tasks without secrets are shown:\n' + all);
      for (const s of FORBIDDEN) assert.ok(!all.includes(s), `${s} reached the output:\n${all}`);
    });
  }

  it('control: the same playbook with plaintext vars shows the values (so the checks above can fail)', async () => {
    const plain = workspace();
    try {
      plain.write('inv.yml', 'all:\n  hosts:\n    h1: { ansible_connection: local }\n');
      plain.write('secret-vars.yml', VARS_FILE);
      plain.write('group_vars/all.yml', GROUP_VARS);
      plain.write('pb.yml', PLAYBOOK(`            ${INLINE_SECRET}`).replace('!vault |', '>-'));
      plain.write('out/.keep', '');
      const r = await runCli(['-i', plain.path('inv.yml'), '-v', plain.path('pb.yml')], { cwd: plain.dir });
      for (const s of [INLINE_SECRET, NESTED_SECRET, GROUP_SECRET, Buffer.from(FILE_SECRET).toString('base64')])
        assert.ok(r.stdout.includes(s), `${s} is shown without vault:\n${r.stdout}`);
    } finally {
      plain.cleanup();
    }
  });

  it('a wrong password is an error located at the vaulted value, naming no secret; nothing runs', async () => {
    const r = await runCli(
      ['-i', ws.path('inv.yml'), '--vault-password-file', ws.path('wrong.txt'), ws.path('pb.yml')],
      {
        cwd: ws.dir,
      },
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /pb\.yml:5:\d+: decryption failed: none of the vault passwords given \(default@.*wrong\.txt\)/,
    );
    assert.match(r.stderr, /vault id 'prod'/);
    assert.ok(!r.stderr.includes(PASSWORD) && !r.stderr.includes('not-the-password'));
    assert.ok(!r.stdout.includes('PLAY'), 'nothing ran');
  });

  it('no password given: the error says how to give one', async () => {
    const r = await runCli(['-i', ws.path('inv.yml'), '--syntax-check', ws.path('pb.yml')], { cwd: ws.dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no vault password was given \(use --vault-password-file, --ask-vault-pass or --vault-id\)/);
  });

  it('--ask-vault-pass reads the password from stdin without a terminal; --vault-id label@script runs the script', async () => {
    const asked = await runCli(['-i', ws.path('inv.yml'), '--ask-vault-pass', '--syntax-check', ws.path('pb.yml')], {
      cwd: ws.dir,
      input: `${PASSWORD}\n`,
    });
    assert.equal(asked.code, 0, asked.stderr);
    // the script prints the password; its argv holds nothing secret
    ws.write('pass-script.sh', `#!/bin/sh\nprintf '%s\\n' '${PASSWORD}'\n`);
    chmodSync(ws.path('pass-script.sh'), 0o700);
    const scripted = await runCli(
      [
        '-i',
        ws.path('inv.yml'),
        '--vault-id',
        `prod@${ws.path('pass-script.sh')}`,
        '--syntax-check',
        ws.path('pb.yml'),
      ],
      { cwd: ws.dir },
    );
    assert.equal(scripted.code, 0, scripted.stderr);
  });
});

describe('phx-play vault', () => {
  let ws: Ws;
  const vault = (args: string[], input?: string, env?: Record<string, string>) =>
    runCli(['vault', ...args], { cwd: ws.dir, input, env });
  before(() => {
    ws = workspace();
    ws.write('pw.txt', `${PASSWORD}\n`);
  });
  after(() => ws.cleanup());

  it('encrypt → view → decrypt gives the file back; encrypt keeps the file mode', async () => {
    const original = 'db_password: s3cret\nport: 5432\n';
    ws.write('vars.yml', original);
    chmodSync(ws.path('vars.yml'), 0o640);
    assert.equal((await vault(['encrypt', '--vault-password-file', 'pw.txt', 'vars.yml'])).code, 0);
    const encrypted = readFileSync(ws.path('vars.yml'), 'utf8');
    assert.ok(encrypted.startsWith('$ANSIBLE_VAULT;1.1;AES256\n') && !encrypted.includes('s3cret'));
    assert.equal(statSync(ws.path('vars.yml')).mode & 0o777, 0o640);
    const viewed = await vault(['view', '--vault-password-file', 'pw.txt', 'vars.yml']);
    assert.equal(viewed.stdout, original);
    assert.equal((await vault(['decrypt', '--vault-password-file', 'pw.txt', 'vars.yml'])).code, 0);
    assert.equal(readFileSync(ws.path('vars.yml'), 'utf8'), original);
  });

  it('a --vault-id label writes format 1.2; encrypting twice or decrypting plaintext is refused', async () => {
    ws.write('a.txt', 'x\n');
    assert.equal((await vault(['encrypt', '--vault-id', 'prod@pw.txt', 'a.txt'])).code, 0);
    assert.ok(readFileSync(ws.path('a.txt'), 'utf8').startsWith('$ANSIBLE_VAULT;1.2;AES256;prod\n'));
    assert.match((await vault(['encrypt', '--vault-id', 'prod@pw.txt', 'a.txt'])).stderr, /already encrypted/);
    ws.write('b.txt', 'x\n');
    assert.match((await vault(['decrypt', '--vault-password-file', 'pw.txt', 'b.txt'])).stderr, /not vault encrypted/);
  });

  it('encrypt_string from stdin gives a `!vault` value a playbook reads back', async () => {
    const r = await vault(['encrypt_string', '--vault-password-file', 'pw.txt', '--stdin-name', 'token'], 'tok-123456');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^token: !vault \|\n {10}\$ANSIBLE_VAULT;1\.1;AES256\n( {10}[0-9a-f]{1,80}\n)+$/);
    ws.write('inv.yml', 'all:\n  hosts:\n    h1: { ansible_connection: local }\n');
    ws.write(
      's.yml',
      `- hosts: h1\n  gather_facts: false\n  vars:\n    ${r.stdout.replace(/\n(?=.)/g, '\n    ')}  tasks:\n    - copy: { content: "{{ token }}", dest: "{{ playbook_dir }}/tok.txt" }\n`,
    );
    const play = await runCli(['-i', ws.path('inv.yml'), '--vault-password-file', ws.path('pw.txt'), ws.path('s.yml')]);
    assert.equal(play.code, 0, play.stdout + play.stderr);
    assert.equal(readFileSync(ws.path('tok.txt'), 'utf8'), 'tok-123456');
  });

  it('edit: $EDITOR gets a private 0600 copy that is removed afterwards; the file is re-encrypted with its label', async () => {
    ws.write('e.txt', 'before\n');
    await vault(['encrypt', '--vault-id', 'ops@pw.txt', 'e.txt']);
    // the editor records its file's path and mode, then rewrites it
    ws.write(
      'editor.sh',
      `#!/bin/sh\nstat -c '%a %n' "$1" > "${ws.path('seen.txt')}"\nstat -c '%a' "$(dirname "$1")" >> "${ws.path('seen.txt')}"\nprintf 'after\\n' > "$1"\n`,
    );
    chmodSync(ws.path('editor.sh'), 0o700);
    const r = await vault(['edit', '--vault-id', 'ops@pw.txt', 'e.txt'], undefined, { EDITOR: ws.path('editor.sh') });
    assert.equal(r.code, 0, r.stderr);
    const [mode, tmpPath] = readFileSync(ws.path('seen.txt'), 'utf8').split('\n')[0].split(' ');
    const dirMode = readFileSync(ws.path('seen.txt'), 'utf8').split('\n')[1];
    assert.equal(mode, '600');
    assert.equal(dirMode, '700');
    assert.throws(() => statSync(tmpPath), /ENOENT/, 'the temporary copy is removed');
    const text = readFileSync(ws.path('e.txt'), 'utf8');
    assert.ok(text.startsWith('$ANSIBLE_VAULT;1.2;AES256;ops\n'));
    assert.equal((await vault(['view', '--vault-id', 'ops@pw.txt', 'e.txt'])).stdout, 'after\n');
  });

  it('a wrong password: a clear error naming the file, exit 1, the file untouched', async () => {
    ws.write('w.txt', 'x\n');
    await vault(['encrypt', '--vault-password-file', 'pw.txt', 'w.txt']);
    const before = readFileSync(ws.path('w.txt'), 'utf8');
    writeFileSync(ws.path('bad.txt'), 'nope\n');
    const r = await vault(['decrypt', '--vault-password-file', 'bad.txt', 'w.txt']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /w\.txt: decryption failed/);
    assert.equal(readFileSync(ws.path('w.txt'), 'utf8'), before);
  });
});
