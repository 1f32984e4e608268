// How a user error is printed: `file:line:col: message`, the line, a caret.
import { PhxError, ValidationErrors, formatLoc } from '../errors.js';
import { sourceLine } from '../yaml-source.js';
import { terminalSafe } from '../output/escape.js';

export function formatPhxError(e: PhxError): string {
  return terminalSafe(formatPhxErrorText(e));
}

function formatPhxErrorText(e: PhxError): string {
  if (!e.loc) return `ERROR: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`;
  const lines = [`${formatLoc(e.loc)}: ${e.message}`];
  const text = sourceLine(e.loc);
  if (text !== undefined) {
    lines.push(`    ${text}`);
    lines.push(`    ${' '.repeat(Math.max(0, e.loc.col - 1))}^`);
  }
  if (e.hint) lines.push(`  hint: ${e.hint}`);
  return lines.join('\n');
}

/** Text for anything thrown before the run starts; null if it is not a user error. */
export function userErrorText(e: unknown): string | null {
  if (e instanceof ValidationErrors) {
    const n = e.errors.length;
    return `${e.errors.map(formatPhxError).join('\n\n')}\n\n${n} error${n === 1 ? '' : 's'} found; nothing was run.`;
  }
  if (e instanceof PhxError) return formatPhxError(e);
  return null;
}
