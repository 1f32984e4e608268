// command's expand_argument_vars, as Ansible's run_command(expand_user_and_vars)
// (lib/ansible/module_utils/basic.py: os.path.expanduser(os.path.expandvars(x))
// for each word): $NAME / ${NAME} from the host's environment, unset ones kept
// as written, a leading ~ expanded; no other shell expansion. And `executable`
// refused with a hint (lib/ansible/modules/command.py warns that it is ignored).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import command from '../modules/command.js';
import { hostExpandedWord } from '../src/remote/expand-word.js';
import { argErrors, run } from './modules-harness.js';

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
  it('executable is refused with a hint (Ansible ignores it for command)', () => {
    assert.ok(argErrors(command, { cmd: 'ls', executable: '/bin/bash' }).some((e) => /shell module/.test(e)));
  });
});
