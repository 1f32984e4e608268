// One line typed on the controller's terminal, for pause's prompt. Only ever called when stdin is
// a terminal (a run without one has nobody to ask: pause does not read then). Raw mode, so the
// echo can be off; Ctrl-C is given back to the process as SIGINT, the run's own interrupt.

export interface TerminalLineOptions {
  /** shown on stderr before reading */
  prompt: string;
  /** show what is typed */
  echo: boolean;
  /** stops the read (the run was interrupted, the task timed out); resolves with what was typed */
  signal: AbortSignal;
}

export function stdinIsTerminal(): boolean {
  return process.stdin.isTTY === true;
}

export function readTerminalLine(o: TerminalLineOptions): Promise<string> {
  const input = process.stdin;
  // raw first: a key typed as soon as the prompt shows must not be echoed by the terminal
  input.setRawMode(true);
  input.resume();
  process.stderr.write(o.prompt);
  return new Promise((resolve) => {
    let value = '';
    const done = () => {
      input.off('data', onData);
      o.signal.removeEventListener('abort', done);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
      resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') {
          done();
          process.kill(process.pid, 'SIGINT');
          return;
        }
        if (ch === '\u007f' || ch === '\b') {
          if (value.length > 0 && o.echo) process.stderr.write('\b \b');
          value = value.slice(0, -1);
        } else if (ch >= ' ') {
          value += ch;
          if (o.echo) process.stderr.write(ch);
        }
      }
    };
    if (o.signal.aborted) return done();
    o.signal.addEventListener('abort', done, { once: true });
    input.on('data', onData);
  });
}
