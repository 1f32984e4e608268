// pam_limits, following community.general's plugins/modules/pam_limits.py
// (main(): lines starting with "#", blank lines and lines that are not four
// fields after collapsing blanks (re.sub(r'\s+', ' ', line)) are kept as they
// are; the lines matching domain+type+item get `domain\ttype\titem\tvalue` plus
// "\t#" + comment; the comment of the first commented line is reused when the
// task gives none, its newline included; use_max/use_min with the unlimited
// values; the module's msg is the line kept or written. _assert_is_valid_value():
// the value check, also applied to every four-field line of the file).
// Expected texts below are what ansible-core 2.14 with Debian 12's community.general
// writes for the same input. Then the module on real files (local connection):
// check mode first (nothing changes), the run, a second run (ok), and a CLI run.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pamLimits, { editLimits } from '../modules/pam_limits.js';
import { Predictions } from '../src/predictions.js';
import { argErrors, comparable, removeDir, run, snapshot, tempDir } from './modules-harness.js';
import { localInventory, recap, repoRoot, runCli, workspace } from './helpers/cli.js';
import { ansibleInstalled, compare, runInSandbox, sandboxUsable, type EndState } from './helpers/compat.js';

let dir = '';
before(() => (dir = tempDir('phx-pam-')));
after(() => removeDir(dir));

const parse = (a: Record<string, unknown>) => pamLimits.args.parse({ dest: '/x/limits.conf', ...a });
const edit = (text: string, a: Record<string, unknown>) => editLimits(text, parse(a));
/** The edited text (the edit must not fail). */
function textOf(text: string, a: Record<string, unknown>): string {
  const r = edit(text, a);
  if ('fail' in r) assert.fail(r.fail);
  return r.text;
}
const JOE = { domain: 'joe', limit_type: 'soft', limit_item: 'nofile' };
const SMITH = { domain: 'smith', limit_type: 'hard', limit_item: 'fsize' };

/** Debian 12's /etc/security/limits.conf, shortened: every line a comment or blank. */
const DEBIAN = [
  '# /etc/security/limits.conf',
  '#',
  '#<domain>      <type>  <item>         <value>',
  '#',
  '#*               soft    core            0',
  '#@student        -       maxlogins       4',
  '',
  '# End of file',
  '',
].join('\n');

describe('pam_limits: the edit (pure, pam_limits.py main())', () => {
  it('appends to a file of comments, tab-separated, with "\\t#" and the comment', () => {
    const r = edit(DEBIAN, { domain: '*', limit_type: 'hard', limit_item: 'core', value: '0', comment: 'no dumps' });
    assert.deepEqual(r, { text: `${DEBIAN}*\thard\tcore\t0\t#no dumps\n`, msg: '*\thard\tcore\t0\t#no dumps\n' });
  });
  it('replaces the matching line whatever its blanks; other lines stay byte for byte', () => {
    const r = edit('joe  soft   nofile  1024\n*\thard\tcore\t0\n', { ...JOE, value: 64000 });
    assert.deepEqual(r, { text: 'joe\tsoft\tnofile\t64000\n*\thard\tcore\t0\n', msg: 'joe\tsoft\tnofile\t64000\n' });
  });
  it('the same value: nothing changes and msg is the line as it is', () => {
    assert.deepEqual(edit('joe  soft   nofile  64000\n', { ...JOE, value: '64000' }), {
      text: 'joe  soft   nofile  64000\n',
      msg: 'joe  soft   nofile  64000\n',
    });
  });
  it('matches on domain, type and item together; "-" is its own type', () => {
    const text = 'joe hard nofile 1\njoe - nofile 2\njack soft nofile 3\n';
    assert.equal(
      textOf(text, { ...JOE, value: '9' }),
      'joe hard nofile 1\njoe - nofile 2\njack soft nofile 3\njoe\tsoft\tnofile\t9\n',
    );
  });
  it('a line of five fields is not a limit line: kept, and the limit appended', () => {
    assert.equal(
      textOf('joe soft nofile 1 extra\n', { ...JOE, value: '3' }),
      'joe soft nofile 1 extra\njoe\tsoft\tnofile\t3\n',
    );
  });
  it('Python whitespace splits fields (a no-break space too); CRLF lines stay CRLF unless rewritten', () => {
    assert.equal(textOf('joe\u00a0soft nofile 1\n', { ...JOE, value: '3' }), 'joe\tsoft\tnofile\t3\n');
    assert.equal(
      textOf('joe soft nofile 1\r\nx hard core 0\r\n', { ...JOE, value: '3' }),
      'joe\tsoft\tnofile\t3\nx hard core 0\r\n',
    );
  });
  it("the task's comment replaces the line's; without one the line's comment is kept", () => {
    assert.equal(
      textOf('joe soft nofile 1 # old\n', { ...JOE, value: '3', comment: 'new one' }),
      'joe\tsoft\tnofile\t3\t#new one\n',
    );
  });
  it('as the module: the first commented line lends its comment, newline included (a blank line follows)', () => {
    // pam_limits.py: `old_comment = line.split('#', 1)[1]` keeps the "\n"; `if not new_comment: new_comment = old_comment`
    const adm = '@adm hard nproc 20 # admins\n';
    assert.deepEqual(edit(`${adm}joe soft nofile 1024\n`, { ...JOE, value: '2048' }), {
      text: `${adm}joe\tsoft\tnofile\t2048\t# admins\n\n`,
      msg: 'joe\tsoft\tnofile\t2048\t# admins\n\n',
    });
    assert.equal(textOf(adm, { ...JOE, value: '2048' }), `${adm}joe\tsoft\tnofile\t2048\t# admins\n\n`);
    // an indented "#" line is not skipped as a comment: its text becomes the comment
    assert.equal(
      textOf('  # indented note\njoe soft nofile 1024\n', { ...JOE, value: '2048' }),
      '  # indented note\njoe\tsoft\tnofile\t2048\t# indented note\n\n',
    );
    // two matching lines: both rewritten, the second with "\t#" prefixed twice
    assert.equal(
      textOf('joe soft nofile 1 # a\njoe soft nofile 2\n', { ...JOE, value: '3' }),
      'joe\tsoft\tnofile\t3\t# a\n\njoe\tsoft\tnofile\t3\t#\t# a\n\n',
    );
  });
  it('use_max keeps a larger or unlimited file value, else writes the larger', () => {
    assert.equal(
      textOf('smith hard fsize 2000000\n', { ...SMITH, value: '1000000', use_max: true }),
      'smith hard fsize 2000000\n',
    );
    assert.equal(
      textOf('smith hard fsize 20\n', { ...SMITH, value: '1000000', use_max: true }),
      'smith\thard\tfsize\t1000000\n',
    );
    assert.equal(
      textOf('smith hard fsize unlimited\n', { ...SMITH, value: '1000000', use_max: true }),
      'smith hard fsize unlimited\n',
    );
    assert.equal(
      textOf('smith hard fsize 5\n', { ...SMITH, value: 'infinity', use_max: true }),
      'smith\thard\tfsize\tinfinity\n',
    );
  });
  it('use_min keeps a smaller file value (as an int: 007 becomes 7), an unlimited value loses', () => {
    assert.equal(
      textOf('smith hard fsize 2000000\n', { ...SMITH, value: '1000000', use_min: true }),
      'smith\thard\tfsize\t1000000\n',
    );
    assert.equal(
      textOf('smith hard fsize 007\n', { ...SMITH, value: '1000000', use_min: true }),
      'smith\thard\tfsize\t7\n',
    );
    assert.equal(
      textOf('smith hard fsize -1\n', { ...SMITH, value: 'unlimited', use_min: true }),
      'smith hard fsize -1\n',
    );
    assert.equal(textOf('smith hard fsize -1\n', { ...SMITH, value: '10', use_min: true }), 'smith\thard\tfsize\t10\n');
  });
  it('use_max beyond 2^53 compares exactly (Python ints)', () => {
    const big = '18446744073709551615';
    assert.equal(
      textOf(`smith hard fsize ${big}\n`, { ...SMITH, value: '18446744073709551614', use_max: true }),
      `smith hard fsize ${big}\n`,
    );
  });
  it('nice: -20..19; -1 counts as unlimited as the module tests line_type where it means line_item', () => {
    const dev = { domain: '@dev', limit_type: '-', limit_item: 'nice' };
    assert.equal(textOf('@dev - nice -5\n', { ...dev, value: '-10', use_max: true }), '@dev - nice -5\n');
    assert.equal(textOf('@dev - nice -1\n', { ...dev, value: '5', use_max: true }), '@dev - nice -1\n');
    assert.equal(textOf('', { ...dev, limit_item: 'priority', value: '+5' }), '@dev\t-\tpriority\t+5\n');
  });
  it('an invalid value in the file fails, naming the file (the module checks every four-field line)', () => {
    const r = edit('joe soft nofile lots\n', { ...JOE, value: '3' });
    assert.deepEqual(r, {
      fail:
        "Invalid configuration found in '/x/limits.conf'. Value of 'lots' for item 'nofile' is invalid. Value must either be " +
        "'unlimited', 'infinity' or -1, all of which indicate no limit, or a limit of 0 or larger. Refer to the limits.conf(5) " +
        'manual pages for more details.',
    });
  });
  it('ours: a last line without its newline gets one before the appended line (the module would join them)', () => {
    assert.equal(textOf('* soft core 0', { ...JOE, value: '3' }), '* soft core 0\njoe\tsoft\tnofile\t3\n');
  });
});

describe('pam_limits: arguments (the module validates value; hostile values refused)', () => {
  it('value: a number, unlimited/infinity/-1; nice and priority -20..19; YAML ints accepted', () => {
    assert.deepEqual(argErrors(pamLimits, { ...JOE, value: 64000 }), []);
    assert.deepEqual(argErrors(pamLimits, { ...JOE, value: 'unlimited' }), []);
    assert.deepEqual(argErrors(pamLimits, { ...JOE, value: -1 }), []);
    for (const value of [1.5, 2 ** 64])
      assert.match(argErrors(pamLimits, { ...JOE, value }).join(), /^value: .*quote it/);
    assert.deepEqual(argErrors(pamLimits, { ...JOE, value: '18446744073709551615' }), []);
    assert.match(
      argErrors(pamLimits, { ...JOE, value: -5 }).join(),
      /^value: Value of '-5' for item 'nofile' is invalid/,
    );
    assert.match(argErrors(pamLimits, { ...JOE, limit_item: 'nice', value: 20 }).join(), /range -20 to 19 inclusive/);
    assert.deepEqual(argErrors(pamLimits, { ...JOE, limit_item: 'nice', value: -20 }), []);
    assert.ok(
      argErrors(pamLimits, { ...JOE, limit_item: 'nproc2', value: 1 }).some((e) => e.startsWith('limit_item:')),
    );
    assert.ok(argErrors(pamLimits, { ...JOE, limit_type: 'both', value: 1 }).some((e) => e.startsWith('limit_type:')));
    assert.deepEqual(argErrors(pamLimits, { ...JOE, value: 1, use_max: true, use_min: true }), [
      'use_min: Cannot use use_min and use_max at the same time.',
    ]);
  });
  it('a domain, value or comment cannot add a field or a line', () => {
    for (const domain of ['joe hard', 'joe\tx', 'joe\nroot', '', 'a#b', 'x\u00a0y', 'x\u2028y'])
      assert.ok(
        argErrors(pamLimits, { ...JOE, domain, value: 1 }).some((e) => e.startsWith('domain:')),
        domain,
      );
    for (const value of ['1 2', '1\nroot hard nofile 0', '5 ', ' 5'])
      assert.ok(
        argErrors(pamLimits, { ...JOE, value }).some((e) => e.startsWith('value:')),
        value,
      );
    assert.ok(argErrors(pamLimits, { ...JOE, limit_item: 'nice', value: ' 5' }).some((e) => e.startsWith('value:')));
    for (const comment of ['x\nroot hard nofile 0', 'x\ry', 'x\0'])
      assert.ok(
        argErrors(pamLimits, { ...JOE, value: 1, comment }).some((e) => e.startsWith('comment:')),
        comment,
      );
    assert.ok(argErrors(pamLimits, { ...JOE, value: 1, mode: '0644' }).length > 0, 'unknown argument');
  });
});

describe('pam_limits on real files (local connection)', () => {
  async function converge(args: Record<string, unknown>) {
    const snap = snapshot(dir);
    const check = await run(pamLimits, args, { check: true, diff: true });
    assert.deepEqual(snapshot(dir), snap, 'check mode changed nothing');
    const real = await run(pamLimits, args, { diff: true });
    assert.equal(real.result.failed, undefined, String(real.result.msg));
    assert.deepEqual(comparable(check.result), comparable(real.result));
    assert.deepEqual(check.result.diff, real.result.diff);
    assert.equal(real.roundTrips, 3, 'facts, write, verify');
    const again = await run(pamLimits, args, { diff: true });
    assert.equal(again.result.changed, false, 'second run is ok');
    assert.equal(again.roundTrips, 1);
    return real.result;
  }

  it('a missing file is created with the line (the module creates it); the diff is the whole text', async () => {
    const p = join(dir, 'new.conf');
    const r = await converge({ dest: p, ...JOE, value: 64000 });
    assert.equal(r.changed, true);
    assert.equal(r.msg, 'joe\tsoft\tnofile\t64000\n');
    assert.deepEqual(r.diff, { before: '', after: 'joe\tsoft\tnofile\t64000\n' });
    assert.equal(readFileSync(p, 'utf8'), 'joe\tsoft\tnofile\t64000\n');
  });

  it('add, change, use_max, use_min on an existing file; its mode is kept', async () => {
    const p = join(dir, 'limits.conf');
    writeFileSync(p, DEBIAN);
    chmodSync(p, 0o640);
    await converge({ dest: p, domain: '*', limit_type: 'hard', limit_item: 'core', value: '0', comment: 'no dumps' });
    const changed = await converge({
      dest: p,
      domain: '*',
      limit_type: 'hard',
      limit_item: 'core',
      value: 'unlimited',
    });
    assert.deepEqual(changed.diff, {
      before: `${DEBIAN}*\thard\tcore\t0\t#no dumps\n`,
      // the line's own comment is reused with its newline (pam_limits.py old_comment): a blank line follows
      after: `${DEBIAN}*\thard\tcore\tunlimited\t#no dumps\n\n`,
    });
    writeFileSync(p, 'smith hard fsize 20\n');
    await converge({ dest: p, ...SMITH, value: 1000, use_max: true });
    assert.equal(readFileSync(p, 'utf8'), 'smith\thard\tfsize\t1000\n');
    const kept = await run(pamLimits, { dest: p, ...SMITH, value: 10, use_max: true });
    assert.equal(kept.result.changed, false);
    assert.equal(kept.result.msg, 'smith\thard\tfsize\t1000\n');
    await converge({ dest: p, ...SMITH, value: 10, use_min: true });
    assert.equal(readFileSync(p, 'utf8'), 'smith\thard\tfsize\t10\n');
    assert.equal(readdirSync(dir).filter((n) => n.startsWith('limits.conf')).length, 1, 'no temp file left');
    assert.equal(statSync(p).mode & 0o777, 0o640);
  });

  it('check mode: a later task sees the file as the earlier one would leave it (predictions)', async () => {
    const p = join(dir, 'predicted.conf');
    const predicted = new Predictions();
    const first = await run(pamLimits, { dest: p, ...JOE, value: 1 }, { check: true, diff: true, predicted });
    assert.equal(first.result.changed, true);
    const second = await run(pamLimits, { dest: p, ...SMITH, value: 2 }, { check: true, diff: true, predicted });
    assert.deepEqual(second.result.diff, {
      before: 'joe\tsoft\tnofile\t1\n',
      after: 'joe\tsoft\tnofile\t1\nsmith\thard\tfsize\t2\n',
    });
    const again = await run(pamLimits, { dest: p, ...JOE, value: 1 }, { check: true, predicted });
    assert.equal(again.result.changed, false);
    assert.equal(existsSync(p), false, 'check mode created nothing');
  });

  it('backup: the old file kept when the file changes', async () => {
    const p = join(dir, 'backup.conf');
    writeFileSync(p, 'joe soft nofile 1\n');
    const r = await run(pamLimits, { dest: p, ...JOE, value: 2, backup: true });
    assert.equal(typeof r.result.backup_file, 'string');
    assert.equal(readFileSync(String(r.result.backup_file), 'utf8'), 'joe soft nofile 1\n');
  });

  it('an invalid line in the file fails and the file is left alone', async () => {
    const p = join(dir, 'bad.conf');
    writeFileSync(p, 'joe soft nofile lots\n');
    const r = await run(pamLimits, { dest: p, ...JOE, value: 3 });
    assert.equal(r.result.failed, true);
    assert.match(String(r.result.msg), /^Invalid configuration found in '.*bad\.conf'\. Value of 'lots'/);
    assert.equal(readFileSync(p, 'utf8'), 'joe soft nofile lots\n');
  });

  it('as a user who may not write the file (its directory writable): "not writable. Use sudo", file kept', async () => {
    // pam_limits.py main(): os.access(limits_conf, os.W_OK), else fail_json; the rename would replace it otherwise
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(dir, 0o755);
    chmodSync(open, 0o777);
    const p = join(open, 'limits.conf');
    writeFileSync(p, 'joe soft nofile 1\n');
    chmodSync(p, 0o644);
    const r = await run(pamLimits, { dest: p, ...JOE, value: 2 }, { become: { user: 'nobody' } });
    assert.equal(r.result.msg, `${p} is not writable. Use sudo`);
    assert.equal(readFileSync(p, 'utf8'), 'joe soft nofile 1\n');
    const missing = await run(
      pamLimits,
      { dest: join(dir, 'x.conf'), ...JOE, value: 2 },
      { become: { user: 'nobody' } },
    );
    assert.equal(missing.result.msg, `directory ${dir} is not writable (check presence, access rights, use sudo)`);
    const created = await run(
      pamLimits,
      { dest: join(open, 'new.conf'), ...JOE, value: 2 },
      { become: { user: 'nobody' } },
    );
    assert.equal(created.result.failed, undefined, String(created.result.msg));
    assert.equal(readFileSync(join(open, 'new.conf'), 'utf8'), 'joe\tsoft\tnofile\t2\n');
  });

  it("a missing directory fails with the module's message; nothing is created", async () => {
    const p = join(dir, 'nodir', 'x.conf');
    const r = await run(pamLimits, { dest: p, ...JOE, value: 3 });
    assert.equal(r.result.failed, true);
    assert.equal(
      r.result.msg,
      `directory ${join(dir, 'nodir')} is not writable (check presence, access rights, use sudo)`,
    );
    assert.equal(existsSync(join(dir, 'nodir')), false);
  });
});

describe('pam_limits through the CLI (community.general.pam_limits)', () => {
  it('a templated hostile domain fails the task before the file is touched; a good one converges', async () => {
    const ws = workspace();
    try {
      const dest = ws.path('limits.conf');
      writeFileSync(dest, DEBIAN);
      ws.write('inv.ini', localInventory(['h1']));
      ws.write(
        'site.yml',
        [
          '- hosts: all',
          '  gather_facts: false',
          '  tasks:',
          '    - community.general.pam_limits:',
          `        dest: ${dest}`,
          "        domain: '{{ who }}'",
          '        limit_type: hard',
          '        limit_item: core',
          '        value: 0',
          '        comment: no core dumps',
          '',
        ].join('\n'),
      );
      const hostile = await runCli([
        '-i',
        ws.path('inv.ini'),
        ws.path('site.yml'),
        '-e',
        'who="* hard nofile 0\\nroot"',
      ]);
      assert.equal(hostile.code, 2, hostile.stdout + hostile.stderr);
      assert.match(hostile.stdout + hostile.stderr, /domain/);
      assert.equal(readFileSync(dest, 'utf8'), DEBIAN);
      const ok = await runCli(['-i', ws.path('inv.ini'), ws.path('site.yml'), '-e', 'who=*']);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.equal(recap(ok.stdout).h1.changed, 1);
      assert.equal(readFileSync(dest, 'utf8'), `${DEBIAN}*\thard\tcore\t0\t#no core dumps\n`);
      const again = await runCli(['-i', ws.path('inv.ini'), ws.path('site.yml'), '-e', 'who=*']);
      assert.equal(recap(again.stdout).h1.changed, 0);
    } finally {
      ws.cleanup();
    }
  });
});

// ---- the fixture playbook test/fixtures/pam-limits/site.yml (Debian's own limits.conf, limits.d files; add,
// change, use_max, use_min, nice, check mode, backup, a bad file) in test/compat/sandbox.sh's throwaway root:
// its end state and recap must be what ansible-playbook 2.14 with community.general gave (expected.json,
// recorded with runInSandbox('ansible-playbook', …); live again with PHX_COMPAT_LIVE=1)
describe('pam_limits in the sandbox, against ansible-playbook', () => {
  const fixtureDir = join(repoRoot, 'test', 'fixtures', 'pam-limits');
  const expected = JSON.parse(readFileSync(join(fixtureDir, 'expected.json'), 'utf8')) as EndState;

  it('ends as ansible-playbook ended: files, modes, contents, backup, recap', async (t) => {
    const unusable = sandboxUsable();
    if (unusable) return t.skip(unusable);
    assert.ok(expected.state.some((l) => l.endsWith('\t/etc/security/limits.conf')));
    assert.equal(expected.recap.localhost.ignored, 1, 'the bad file fails under Ansible too');
    const ours = await runInSandbox('phx-play', fixtureDir, 'site.yml');
    assert.deepEqual(compare(ours, expected), [], ours.output);
    if (process.env.PHX_COMPAT_LIVE !== '1' || !ansibleInstalled()) return;
    const live = await runInSandbox('ansible-playbook', fixtureDir, 'site.yml');
    assert.deepEqual(
      compare(live, expected),
      [],
      `the fixture is not what ansible-playbook does here:\n${live.output}`,
    );
  });
});
