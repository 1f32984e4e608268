// Terminal output is data-safe: control characters from host output reach the
// terminal escaped in every reporter, and a terminal without a width gets plain lines.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunEvent } from '../src/events.js';
import { PlainReporter } from '../src/output/plain.js';
import { LiveReporter } from '../src/output/live.js';
import { JsonReporter, TeeReporter } from '../src/output/json.js';
import { terminalSafe } from '../src/output/escape.js';
import { wantsLiveView } from '../src/output/choose.js';

/** A write stream that records what is written (not a terminal, so listr2 falls back to plain lines). */
function capture(): NodeJS.WriteStream & { text: string } {
  const s = {
    text: '',
    isTTY: false,
    columns: 0,
    write(chunk: string | Uint8Array) {
      s.text += String(chunk);
      return true;
    },
  };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

// a title-changing OSC, `\r` + a fake ok line over the fatal line, concealed text, a C1 CSI, a bidi override
const HOSTILE = 'x\x1b]0;pwned\x07\n\x1b[2K\rok: [pve1] all good\x1b[8m\x9b31m\u202eevil';
const loc = { file: 'pb.yml', line: 1, col: 1 };

function events(): RunEvent[] {
  return [
    { type: 'playbook_start', playbook: 'pb.yml', check: false },
    { type: 'play_start', play: `play ${HOSTILE}`, hosts: ['pve1'], loc },
    { type: 'task_start', task: `task ${HOSTILE}`, module: 'shell', hosts: ['pve1'], loc, handler: false },
    { type: 'command', host: 'pve1', command: `echo ${HOSTILE}` },
    { type: 'debug', host: 'pve1', message: HOSTILE },
    { type: 'warning', message: HOSTILE },
    {
      type: 'host_result',
      task: 'task',
      host: 'pve1',
      status: 'failed',
      ignored: false,
      result: { msg: `non-zero return code ${HOSTILE}`, stderr: HOSTILE, stdout: HOSTILE, rc: 1, failed: true },
      item: HOSTILE,
      durationMs: 5,
    },
    {
      type: 'host_result',
      task: 'task',
      host: 'pve2',
      status: 'changed',
      ignored: false,
      result: { msg: HOSTILE, changed: true, diff: { before: 'a\n', after: `${HOSTILE}\n` } },
      durationMs: 5,
    },
    {
      type: 'recap',
      hosts: { pve1: { ok: 0, changed: 0, unreachable: 0, failed: 1, skipped: 0, rescued: 0, ignored: 0 } },
      durationMs: 10,
    },
  ];
}

function assertNoRawControls(text: string): void {
  // \n is the only control character a reporter may write (colours are off: NO_COLOR)
  // eslint-disable-next-line no-control-regex -- looking for control characters is the point
  const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.exec(text);
  assert.equal(raw, null, `raw U+${raw?.[0].charCodeAt(0).toString(16).padStart(4, '0')} in:\n${text}`);
}

describe('terminal output', () => {
  process.env.NO_COLOR = '1';

  it('terminalSafe writes control characters as escapes and keeps newlines', () => {
    assert.equal(terminalSafe('a\x1b[2Kb\rc\td\ne\x9bf\u202eg\x7f'), 'a\\x1b[2Kb\\rc\\td\ne\\x9bf\\u202eg\\x7f');
    assert.equal(terminalSafe('plain text: ünïcödé ✓'), 'plain text: ünïcödé ✓');
  });

  for (const verbosity of [0, 2]) {
    it(`the plain reporter (verbosity ${verbosity}) shows host output escaped`, async () => {
      const out = capture();
      const r = new PlainReporter(out, verbosity, true);
      for (const e of events()) r.emit(e);
      await r.close();
      assertNoRawControls(out.text);
      assert.match(out.text, /fatal: \[pve1\] => \(item=x\\x1b\]0;pwned\\x07/);
      assert.match(out.text, /\\x1b\[2K\\rok: \[pve1\] all good/);
    });
  }

  it('the live view shows host output escaped', async () => {
    const out = capture();
    const r = new LiveReporter(out, 1, true);
    for (const e of events()) r.emit(e);
    await r.close();
    assertNoRawControls(out.text);
    assert.match(out.text, /\\x1b\[2K\\rok: \[pve1\] all good/);
  });

  it('--json: the JSON lines and the human text on stderr carry no raw control characters', async () => {
    const stdout = capture();
    const stderr = capture();
    const r = new TeeReporter([new JsonReporter(stdout), new PlainReporter(stderr, 0, false)]);
    for (const e of events()) r.emit(e);
    await r.close();
    assertNoRawControls(stdout.text);
    assertNoRawControls(stderr.text);
    const result = stdout.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; result?: { stderr: string } })
      .find((e) => e.type === 'host_result');
    assert.equal(result?.result?.stderr, HOSTILE, 'JSON still carries the exact value');
  });

  it('the live view needs a terminal that knows its width', () => {
    assert.equal(wantsLiveView({ isTTY: true, columns: 120 }, {}), true);
    assert.equal(wantsLiveView({ isTTY: true, columns: 0 }, {}), false, 'a pty without a size');
    assert.equal(wantsLiveView({ isTTY: true }, {}), false);
    assert.equal(wantsLiveView({ isTTY: false, columns: 80 }, {}), false);
    assert.equal(wantsLiveView({ isTTY: true, columns: 80 }, { CI: '1' }), false);
  });
});
