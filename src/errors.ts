// Errors the user sees. Everything a user can cause is a PhxError with a location
// where one exists; the CLI prints it as `file:line:col: message` plus the line.

export interface SourceLoc {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
}

export class PhxError extends Error {
  constructor(
    message: string,
    readonly loc?: SourceLoc,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'PhxError';
  }
}

/** A template that failed on an undefined variable (Ansible's AnsibleUndefinedVariable); shown as any PhxError. */
export class UndefinedVariableError extends PhxError {}

/** Several located problems found in one validation pass. */
export class ValidationErrors extends Error {
  constructor(readonly errors: PhxError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'ValidationErrors';
  }
}

/** The run was interrupted (Ctrl-C, SIGTERM): no task starts any more; the recap so far is shown. */
export class Interrupted extends Error {
  constructor(readonly signalName = 'SIGINT') {
    super(`interrupted (${signalName})`);
    this.name = 'Interrupted';
  }
}

/** The host cannot be reached (refused, timeout, auth, host key, connection lost). */
export class UnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreachableError';
  }
}

export function formatLoc(loc: SourceLoc): string {
  return `${loc.file}:${loc.line}:${loc.col}`;
}
