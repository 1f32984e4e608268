import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import command from '../modules/command.js';
import shell from '../modules/shell.js';
import { shlexSplit } from '../src/remote/shlex.js';
import { argErrors, removeDir, run, snapshot, tempDir } from './modules-harness.js';

let dir: string;
before(() => {
  dir = tempDir();
});
after(() => removeDir(dir));

describe('shlex split (as Python shlex.split)', () => {
  it('splits quotes and escapes like Python', () => {
    assert.deepEqual(shlexSplit(`ls -l "a b" 'c d' e\\ f "x\\"y" 'p\\q' "r\\s"`), [
      'ls',
      '-l',
      'a b',
      'c d',
      'e f',
      'x"y',
      'p\\q',
      'r\\s',
    ]);
    assert.deepEqual(shlexSplit(`a"b c"d`), ['ab cd']);
    assert.throws(() => shlexSplit(`echo "open`), /No closing quotation/);
  });
});

describe('command', () => {
  it('runs argv without a shell and registers Ansible fields', async () => {
    const { result, roundTrips } = await run(command, 'echo "$(touch /tmp/phx-pwned)" hello;  world');
    assert.equal(result.changed, true);
    assert.equal(result.rc, 0);
    assert.equal(result.stdout, '$(touch /tmp/phx-pwned) hello; world');
    assert.equal(result.stderr, '');
    assert.equal(result.msg, '');
    assert.deepEqual(result.cmd, ['echo', '$(touch /tmp/phx-pwned)', 'hello;', 'world']);
    assert.match(String(result.start), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    assert.match(String(result.delta), /^0:00:\d\d\.\d{6}$/);
    assert.equal(existsSync('/tmp/phx-pwned'), false);
    assert.equal(roundTrips, 1);
  });

  it('argv list keeps hostile words literal', async () => {
    const words = ['printf', '%s|', '-n', "it's", 'a\nb', '`id`', '--', ' sp '];
    const { result } = await run(command, { argv: words });
    assert.equal(result.stdout, "-n|it's|a\nb|`id`|--| sp |");
  });

  it('non-zero rc fails with Ansible message and keeps output', async () => {
    const { result } = await run(command, { argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    assert.equal(result.failed, true);
    assert.equal(result.rc, 3);
    assert.equal(result.msg, 'non-zero return code');
    assert.equal(result.stdout, 'out');
    assert.equal(result.stderr, 'err');
  });

  it('creates: runs once, then ok in 1 round trip; check mode predicts both', async () => {
    const marker = join(dir, 'made it');
    const args = { argv: ['touch', marker], creates: marker };
    const before = snapshot(dir);
    const check = await run(command, args, { check: true });
    assert.equal(check.result.changed, true);
    assert.equal(check.result.rc, undefined);
    assert.equal(check.result.stdout, undefined);
    assert.match(String(check.result.msg), /unknown in check mode/);
    assert.deepEqual(snapshot(dir), before);
    const first = await run(command, args);
    assert.equal(first.result.changed, true);
    assert.ok(existsSync(marker));
    assert.ok(first.roundTrips <= 2);
    const second = await run(command, args);
    assert.equal(second.result.changed, false);
    assert.equal(second.result.msg, `Did not run command since '${marker}' exists`);
    assert.equal(second.result.stdout, `skipped, since ${marker} exists`);
    assert.equal(second.result.rc, 0);
    assert.equal(second.roundTrips, 1);
    const checkAgain = await run(command, args, { check: true });
    assert.equal(checkAgain.result.changed, false);
    assert.deepEqual(checkAgain.result, second.result);
  });

  it('creates is a glob, relative to chdir; removes the opposite', async () => {
    writeFileSync(join(dir, 'x-1.log'), '');
    const globbed = await run(command, { cmd: 'false', creates: 'x-*.log', chdir: dir });
    assert.equal(globbed.result.changed, false);
    const removes = await run(command, { cmd: 'false', removes: join(dir, 'nope $(id)') });
    assert.equal(removes.result.changed, false);
    assert.equal(removes.result.msg, `Did not run command since '${join(dir, 'nope $(id)')}' does not exist`);
    const inDir = await run(command, { cmd: 'pwd', chdir: dir, creates: 'nothing-here' });
    assert.equal(inDir.result.stdout, dir);
    assert.deepEqual(inDir.result.cmd, ['pwd']);
    const literal = await run(command, { cmd: 'echo creates=x chdir=/' });
    assert.equal(literal.result.stdout, 'creates=x chdir=/', 'only the loader takes inline options out of a free form');
  });

  it('stdin is fed with a newline; strip_empty_ends can be turned off', async () => {
    const { result } = await run(command, { cmd: 'cat', stdin: 'line one\n$(x)', strip_empty_ends: false });
    assert.equal(result.stdout, 'line one\n$(x)\n');
    const raw = await run(command, { cmd: 'cat', stdin: 'abc', stdin_add_newline: false });
    assert.equal(raw.result.stdout, 'abc');
  });

  it('rejects bad arguments with clear messages', () => {
    assert.match(argErrors(command, { cmd: 'ls', crates: '/x' }).join(), /crates/);
    assert.match(argErrors(command, {}).join(), /exactly one of/);
    assert.match(argErrors(command, { cmd: 'ls', argv: ['ls'] }).join(), /exactly one of/);
    assert.match(
      argErrors(command, { cmd: 'echo "unbalanced' }).join(),
      /cmd: cannot split the command line: No closing quotation/,
    );
    assert.match(argErrors(command, { argv: 'ls' }).join(), /argv/);
  });
});

describe('shell', () => {
  it('runs through sh with pipes; second run with creates is ok', async () => {
    const out = join(dir, 'shell out');
    const args = { cmd: `echo "a b" | tr a-z A-Z > '${out}'`, creates: out };
    const first = await run(shell, args);
    assert.equal(first.result.changed, true);
    assert.equal(first.result.cmd, args.cmd);
    assert.ok(first.roundTrips <= 2);
    const second = await run(shell, args);
    assert.equal(second.result.changed, false);
    assert.equal(second.roundTrips, 1);
  });

  it('executable and chdir; failure gives rc and msg', async () => {
    const { result } = await run(shell, {
      cmd: 'echo ${BASH_VERSION:+bash}; pwd; exit 4',
      executable: '/bin/bash',
      chdir: dir,
    });
    assert.equal(result.stdout, `bash\n${dir}`);
    assert.equal(result.rc, 4);
    assert.equal(result.failed, true);
    assert.equal(result.msg, 'non-zero return code');
  });

  it('check mode runs nothing', async () => {
    const target = join(dir, 'never');
    const { result, roundTrips } = await run(shell, `touch '${target}'`, { check: true });
    assert.equal(result.changed, true);
    assert.equal(existsSync(target), false);
    assert.equal(roundTrips, 0);
  });
});
