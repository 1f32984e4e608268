// phx-play's own scripts (probes, batches) may run in the remote shell's own
// process, in a function whose variables are local (src/connection/same-shell.ts),
// instead of a `( eval … )` subshell. This pins: what the reading accepts and
// refuses, and, in real shells (dash as /bin/sh, bash --posix), that a script run
// that way answers exactly as in a subshell and leaves the shell as it found it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OWN_SCRIPT_FUNCTION, sameShellLocals } from '../src/connection/same-shell.js';
import { batchScript } from '../src/remote/batch.js';
import { probeLocals, probeScript, type ProbeRequest } from '../src/remote/probe.js';
import { shellQuote } from '../src/quote.js';

test('the names a script may assign are made local: assignments, prefixes, for loops, unset', () => {
  assert.deepEqual(sameShellLocals('s=$(stat -c %s /x); printf %s "$s"'), ['s']);
  assert.deepEqual(sameShellLocals('export LC_ALL=C; a=-; w=-; [ -r /x ] && a=r'), ['LC_ALL', 'a', 'w']);
  assert.deepEqual(sameShellLocals('phx_u0= phx_g0=; IFS=; set -- $g; unset IFS'), ['phx_u0', 'phx_g0']);
  assert.deepEqual(sameShellLocals('for f in a b; do echo "$f"; done; unset t u'), ['f', 't', 'u']);
  // text in single quotes is inert, in double quotes it is read
  assert.deepEqual(sameShellLocals(`printf 'x=1 cd exit %s' "y"; z=2`), ['z']);
  assert.deepEqual(sameShellLocals('set -f; set -- $s; set +f; echo "$1"'), []);
  assert.deepEqual(sameShellLocals("printf 'I '; umask; echo x 2>&1 >&2 && true"), []);
});

test('whatever could outlive the function sends the script to a subshell', () => {
  for (const script of [
    'cd /tmp && ls',
    'exit 3',
    'umask 077; touch f',
    'trap "rm f" EXIT',
    'exec 3>/tmp/f',
    'set -e; false',
    'set -o pipefail',
    'export PATH',
    'readonly x=1',
    'eval "$x"',
    'read -r line',
    '. /etc/profile',
    'echo "${x:=1}"',
    'echo $((i=1))',
    'f() { :; }',
    'sleep 10 &',
    'cat <<EOF\nx\nEOF',
    'unset -f f',
    'ulimit -n 10',
    "echo 'open",
    'echo "open',
    'shift',
    // a read-only name cannot be made local
    'stat UID=0 /x',
  ]) {
    assert.equal(sameShellLocals(script), undefined, script);
  }
});

/** The shells to check: /bin/sh (dash on Debian and Proxmox VE) and bash in POSIX mode when there is one. */
const SHELLS = [['/bin/sh'], ...(existsSync('/bin/bash') ? [['/bin/bash', '--posix']] : [])];

/** What a shell shows of itself that a command could change (variables that move by themselves left out). */
const STATE = [
  `set | grep -Ev '^(_|LINENO|BASH_LINENO|BASH_COMMAND|BASH_ARGC|BASH_ARGV|BASH_SOURCE|PIPESTATUS|RANDOM|SRANDOM|SECONDS|EPOCHSECONDS|EPOCHREALTIME|FUNCNAME)='`,
  'echo "args $# $*"',
  'echo "flags $-"',
  'export -p',
  'umask',
  'pwd',
  'printf "ifs %s\\n" "$(printf %s "$IFS" | od -An -c)"',
].join('; ');

/** Probe requests of every shape, on a small tree made in `dir` (when `make`). */
function fixtures(dir: string, make = true): ProbeRequest[] {
  const file = join(dir, 'file');
  const sub = join(dir, 'sub');
  if (make) {
    writeFileSync(file, 'content\n');
    mkdirSync(sub);
    symlinkSync('file', join(dir, 'link'));
  }
  const missing = join(dir, 'missing', 'deeper');
  return [
    { paths: [{ path: file, checksum: 'sha1' }], identity: true },
    {
      paths: [
        { path: file, contentMax: 100, checksum: 'sha1' },
        { path: sub, details: true },
      ],
    },
    {
      paths: [{ path: join(dir, 'link'), followLink: true }, { path: file }],
      users: ['root', 'nobody'],
      groups: ['root'],
    },
    {
      paths: [
        { path: missing },
        { path: join(dir, 'missing'), onlyIfMissing: missing },
        { path: dir, existsIfExists: sub },
      ],
    },
    {
      paths: [{ path: join(dir, 'link'), follow: true, contentMax: 100 }],
      globs: [join(dir, 'f*'), join(dir, 'none*')],
    },
    { tree: dir, users: ['no-such-user-here'] },
    // batches (probe.ts batchedStat, batchedSums): one stat per follow kind, one sha1sum
    {
      paths: [
        { path: file, checksum: 'sha1' },
        { path: join(dir, 'link'), follow: true, checksum: 'sha1' },
        { path: file, follow: true },
        { path: sub },
      ],
      users: ['root'],
    },
  ];
}

test("probe() names its scripts' variables itself: they cover what the reading finds, and the reading accepts them", () => {
  const dir = '/srv/phx probe/dir';
  for (const req of fixtures(dir, false)) {
    const found = sameShellLocals(probeScript(req));
    assert.ok(found, JSON.stringify(req));
    assert.deepEqual(
      found.filter((n) => !probeLocals(req).includes(n)),
      [],
      JSON.stringify(req),
    );
  }
});

for (const shell of SHELLS) {
  test(`${shell.join(' ')}: own scripts answer as in a subshell and leave the shell as it was`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'phx-same-shell-'));
    try {
      // the probed tree apart from the answers written beside it
      const probed = join(dir, 'probed');
      mkdirSync(probed);
      const probes = fixtures(probed).map(probeScript);
      const scripts = [
        // the script sees no positional parameters of the function's own
        'printf \'%s|\' "$#" "$*" "${1-unset}"',
        ...probes,
        batchScript('@@phx-test', [
          ['cat', '--', join(probed, 'file')],
          { shell: probes[2] },
          ['stat', join(probed, 'nope')],
        ]),
      ];
      const lines = [OWN_SCRIPT_FUNCTION, `{ ${STATE}; } > ${shellQuote(join(dir, 'before'))}`];
      scripts.forEach((script, i) => {
        const locals = sameShellLocals(script);
        assert.ok(locals, `script ${i} would go to a subshell:\n${script}`);
        const out = (mode: string) => shellQuote(join(dir, `${mode}-${i}`));
        lines.push(`( eval ${shellQuote(script)} ) </dev/null >${out('sub')} 2>&1; echo "rc $?" >>${out('sub')}`);
        lines.push(
          `__phx_own ${shellQuote(locals.join(' '))} ${shellQuote(script)} </dev/null >${out('own')} 2>&1; echo "rc $?" >>${out('own')}`,
        );
      });
      lines.push(`{ ${STATE}; } > ${shellQuote(join(dir, 'after'))}`);
      const r = spawnSync(shell[0], [...shell.slice(1), '-s'], {
        input: lines.join('\n') + '\n',
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8' },
        cwd: dir,
      });
      assert.equal(r.status, 0, r.stderr);
      // the first run's reads may move a file's access time (stat's 7th field) before the second's stat
      const answer = (name: string) =>
        readFileSync(join(dir, name), 'utf8').replace(/^([SF]\d+ (?:\S+ ){5})\S+/gm, '$1(atime)');
      scripts.forEach((_, i) => {
        const sub = answer(`sub-${i}`);
        assert.equal(answer(`own-${i}`), sub, `script ${i}`);
        assert.match(sub, /rc \d+\n$/);
      });
      assert.equal(readFileSync(join(dir, 'after'), 'utf8'), readFileSync(join(dir, 'before'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
