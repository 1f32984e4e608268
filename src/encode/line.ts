// One line of a line-based file (a CT/VM config, storage.cfg, /etc/exports): a
// newline in a value ends the line and starts a line of the value's choosing
// (`lxc.cap.drop:` in a CT config); a NUL ends the text for C readers.
// A value that starts with "-" is read as an option when it is a CLI operand.

/** Why `value` cannot be written inside one line, or undefined when it can. */
export function lineProblem(value: string): string | undefined {
  if (/[\n\r]/.test(value)) return 'must be one line (no line breaks)';
  if (value.includes('\0')) return 'must not contain a NUL character';
  return undefined;
}

/** Why `value` cannot be an operand or option value on a command line, or undefined when it can. */
export function operandProblem(value: string): string | undefined {
  if (value.startsWith('-')) return 'must not start with "-" (a command would read it as an option)';
  return lineProblem(value);
}
