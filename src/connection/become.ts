// The conversation with sudo that a become command needs, written once for
// every connection: hold the command's stdin back, answer sudo's password
// prompt, and send stdin only once the command itself has started (it prints
// a one-time marker first). Then the password can never reach the command,
// whether sudo asks for it or not (root login, NOPASSWD, cached ticket).
// Also recognises a sudo that refused to run the command, so that is reported
// as a become failure and not mistaken for the command's own exit status.
import { PhxError } from '../errors.js';
import type { BecomeExchange, ExecResult } from './types.js';

export class BecomeError extends PhxError {
  constructor(message: string, hint?: string) {
    super(message, undefined, hint);
    this.name = 'BecomeError';
  }
}

/** How a connection drives the command's stdin and stops it. */
export interface ExecIo {
  write(data: string | Buffer): void;
  end(data?: string | Buffer): void;
  /** sudo refused while the command was starting: stop it, reject the exec with `err` */
  fail(err: BecomeError): void;
}

/**
 * Feeds one command's stdin and collects its output. Without become (or with
 * become and no password: `sudo -n` never reads stdin) stdin goes at once;
 * with a password it waits for the marker line on stdout.
 */
export class ExecStreams {
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  /** stdout and stderr received before the marker (everything, if there is no become) */
  private stdoutHead: Buffer = Buffer.alloc(0);
  private stderrHead: Buffer[] = [];
  /** the last bytes of stderrHead, enough to hold the prompt */
  private stderrTail: Buffer = Buffer.alloc(0);
  private prompts = 0;
  private started = false;
  private failed = false;

  constructor(
    private readonly stdin: string | Buffer | undefined,
    private readonly become: BecomeExchange | undefined,
    private readonly io: ExecIo,
  ) {
    if (!become) this.started = true;
  }

  /** Call once the command runs: sends stdin now unless sudo must be answered first. */
  start(): void {
    if (this.become?.password === undefined) this.io.end(this.stdin);
  }

  /** true once the command itself ran (the marker came) */
  get commandStarted(): boolean {
    return this.started;
  }

  onStdout(chunk: Buffer): void {
    if (this.started) {
      this.out.push(chunk);
      return;
    }
    this.stdoutHead = Buffer.concat([this.stdoutHead, chunk]);
    const line = `${this.become!.marker}\n`;
    const at = this.stdoutHead.indexOf(line);
    if (at < 0) return;
    this.started = true;
    this.out.push(this.stdoutHead.subarray(0, at), this.stdoutHead.subarray(at + line.length));
    this.stdoutHead = Buffer.alloc(0);
    this.err.push(this.withoutPrompts(Buffer.concat(this.stderrHead)));
    this.stderrHead = [];
    if (this.become!.password !== undefined) this.io.end(this.stdin);
  }

  onStderr(chunk: Buffer): void {
    if (this.started) {
      this.err.push(chunk);
      return;
    }
    this.stderrHead.push(chunk);
    const { prompt, password } = this.become!;
    if (password === undefined || this.failed) return;
    // sudo waits for an answer right after its prompt, so a new prompt is the
    // end of what arrived so far (a command echoing the prompt text is not).
    const p = Buffer.from(prompt);
    const tail = Buffer.concat([this.stderrTail, chunk.subarray(Math.max(0, chunk.length - p.length))]);
    this.stderrTail = tail.subarray(Math.max(0, tail.length - p.length));
    if (!this.stderrTail.equals(p)) return;
    this.stderrTail = Buffer.alloc(0); // the next prompt needs new bytes
    this.prompts++;
    if (this.prompts === 1) {
      this.io.write(`${password}\n`);
      return;
    }
    // asked again: the password was wrong; sudo would ask a third time
    this.failed = true;
    this.io.end();
    this.io.fail(incorrectPassword());
  }

  /** The command's output: marker line and sudo prompts removed. */
  output(): { stdout: string; stderr: string } {
    const out = [...this.out, this.stdoutHead];
    const err = [...this.err, this.withoutPrompts(Buffer.concat(this.stderrHead))];
    return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
  }

  /** Why sudo did not run the command, or undefined when it did (or there is no become). */
  failure(r: ExecResult, timedOut: boolean): BecomeError | undefined {
    if (!this.become || this.started || timedOut) return undefined;
    return (
      sudoRefusal(r) ??
      new BecomeError(`become: sudo did not run the command (rc ${r.rc})${firstLine(r.stderr, this.become.password)}`)
    );
  }

  private withoutPrompts(b: Buffer): Buffer {
    if (!this.become || b.length === 0) return b;
    const prompt = Buffer.from(this.become.prompt);
    const parts: Buffer[] = [];
    let from = 0;
    for (let at = b.indexOf(prompt); at >= 0; at = b.indexOf(prompt, from)) {
      parts.push(b.subarray(from, at));
      from = at + prompt.length;
    }
    parts.push(b.subarray(from));
    return Buffer.concat(parts);
  }
}

function incorrectPassword(): BecomeError {
  return new BecomeError('become: incorrect sudo password', 'check ansible_become_password (or the -K answer)');
}

function firstLine(stderr: string, password: string | undefined): string {
  let line =
    stderr
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  if (password) line = line.split(password).join('********');
  return line ? `: ${line}` : '';
}

/** sudo's own refusals (C locale over ssh: its messages start with "sudo:"). */
function sudoRefusal(r: ExecResult): BecomeError | undefined {
  if (r.rc === 127 && /sudo: (command )?not found|sudo: No such file/i.test(r.stderr)) {
    return new BecomeError('become: sudo is not installed on the host');
  }
  if (r.rc !== 1) return undefined;
  if (/^sudo: \d+ incorrect password attempts?/m.test(r.stderr)) return incorrectPassword();
  if (/^sudo: (a password is required|no password was provided|a terminal is required)/m.test(r.stderr)) {
    return new BecomeError('become: sudo requires a password: set ansible_become_password or use -K');
  }
  const denied = /^(?:sudo: )?(\S+) is not in the sudoers file|^Sorry, user (\S+) is not allowed to execute/m.exec(
    r.stderr,
  );
  if (denied) return new BecomeError(`become: ${denied[1] ?? denied[2]} may not run this command with sudo (sudoers)`);
  return undefined;
}
