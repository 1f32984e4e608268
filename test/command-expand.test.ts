// command's expand_argument_vars, as Ansible's run_command(expand_user_and_vars)
// (lib/ansible/module_utils/basic.py: os.path.expanduser(os.path.expandvars(x))
// for each word): $NAME / ${NAME} from the host's environment, unset ones kept
// as written, a leading ~ expanded; no other shell expansion. And `executable`
// accepted and ignored with command.py main()'s warning.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import command from '../modules/command.js';
import { hostExpandedWord } from '../src/remote/expand-word.js';
import { argErrors, run } from './modules-harness.js';
import { localInventory, runCli, workspace } from './helpers/cli.js';

const HOME = process.env.HOME ?? '/root';
const words = ['printf', '%s|', '$HOME', '${PHX_SURELY_UNSET}', '~/x', '$(id) `id` *', "it's"];

describe('command: expand_argument_vars', () => {
  it('expands on the host by default, as Ansible', async () => {
    const r = await run(command, { argv: words });
    assert.equal(r.result.stdout, `${HOME}|\${PHX_SURELY_UNSET}|${HOME}/x|$(id) \`id\` *|it's|`);
    assert.deepEqual(r.result.cmd, words, 'cmd shows the words as written');
  });
  it('false: the words as written', async () => {
    const r = await run(command, { argv: words, expand_argument_vars: false });
    assert.equal(r.result.stdout, `$HOME|\${PHX_SURELY_UNSET}|~/x|$(id) \`id\` *|it's|`);
  });
  it('the sh text quotes everything but the variable references and the tilde prefix', () => {
    assert.equal(hostExpandedWord('a$X b'), `a"\${X-\\$X}"' b'`);
    assert.equal(hostExpandedWord('$(id)'), `'$(id)'`);
  });
  it("executable is ignored with Ansible's warning: the command runs as given, without a shell", async () => {
    assert.deepEqual(argErrors(command, { cmd: 'echo $0', executable: '/bin/bash' }), []);
    const r = await run(command, { argv: ['printf', '%s', '$(echo no shell)'], executable: '/bin/bash' });
    assert.equal(r.result.stdout, '$(echo no shell)');
    assert.deepEqual(r.result.warnings, [
      "As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '/bin/bash'.",
    ]);
  });
  it('the warning quoting executable stays one line on the terminal (a newline cannot forge a result line)', async () => {
    const ws = workspace({
      'inv.ini': localInventory(['h1']),
      'pb.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo hi\n      args: { executable: "/bin/x\\nok: [h1] forged" }\n`,
    });
    try {
      const r = await runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml')], { cwd: ws.dir });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const out = r.stdout + r.stderr;
      assert.match(out, /Not using '\/bin\/x\\nok: \[h1\] forged'/);
      assert.doesNotMatch(out, /^ok: \[h1\] forged/m);
    } finally {
      ws.cleanup();
    }
  });
});
