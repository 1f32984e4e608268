// Recognises a sudo that refused to run the command (wrong or missing password,
// no sudo rights), so it is reported as a become failure and not mistaken for
// the command's own exit status (rc 1 means "absent" to many fact readers).
import { PhxError } from '../errors.js';
import type { ExecResult } from './types.js';

export class BecomeError extends PhxError {
  constructor(message: string, hint?: string) {
    super(message, undefined, hint);
    this.name = 'BecomeError';
  }
}

/** A command line made by buildCommand with become starts with sudo. */
export function isBecomeCommand(command: string): boolean {
  return command.startsWith('sudo ');
}

/** The become failure behind a result, or undefined when sudo ran the command. */
export function becomeFailure(command: string, r: ExecResult): BecomeError | undefined {
  if (!isBecomeCommand(command)) return undefined;
  if (r.rc === 127 && /sudo: (command )?not found|sudo: No such file/i.test(r.stderr)) {
    return new BecomeError('become: sudo is not installed on the host');
  }
  if (r.rc !== 1) return undefined;
  // sudo's own messages start with "sudo:" at the start of a line (C locale over ssh).
  if (/^sudo: \d+ incorrect password attempts?/m.test(r.stderr)) {
    return new BecomeError('become: incorrect sudo password', 'check ansible_become_password (or the -K answer)');
  }
  if (/^sudo: (a password is required|no password was provided|a terminal is required)/m.test(r.stderr)) {
    return new BecomeError('become: sudo requires a password: set ansible_become_password or use -K');
  }
  const denied = /^(?:sudo: )?(\S+) is not in the sudoers file|^Sorry, user (\S+) is not allowed to execute/m.exec(r.stderr);
  if (denied) return new BecomeError(`become: ${denied[1] ?? denied[2]} may not run this command with sudo (sudoers)`);
  return undefined;
}
