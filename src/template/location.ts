// Turning a position inside a template/expression into a file:line:col, given
// where the text itself starts (the loc of a YAML value, or line 1 col 1 of a file).
import type { SourceLoc } from '../errors.js';
import { sourceLine } from '../yaml-source.js';

/**
 * `line` is 1-based and `column` 0-based inside `text`. When the YAML source
 * line is known, the text is looked up in it, so a quoted scalar (whose loc
 * points at the quote) or a block scalar still gets the exact column.
 */
export function locInside(
  base: SourceLoc | undefined,
  text: string,
  line: number,
  column: number,
): SourceLoc | undefined {
  if (!base) return undefined;
  const lines = text.split('\n');
  const textLine = lines[line - 1] ?? '';
  if (line === 1) {
    const src = sourceLine(base);
    if (src !== undefined && textLine !== '') {
      for (const start of [base.col - 1, base.col]) {
        if (src.startsWith(textLine, start)) return { file: base.file, line: base.line, col: start + 1 + column };
      }
      return { ...base };
    }
    return { file: base.file, line: base.line, col: base.col + column };
  }
  // Later lines: a block scalar (`|`) starts on the line after its indicator.
  for (const l of [base.line + line - 1, base.line + line]) {
    const src = sourceLine({ ...base, line: l });
    if (src === undefined) continue;
    const at = textLine.trim() === '' ? -1 : src.indexOf(textLine.trimStart());
    if (at >= 0) {
      const indent = textLine.length - textLine.trimStart().length;
      return { file: base.file, line: l, col: at + 1 + Math.max(0, column - indent) };
    }
  }
  if (sourceLine(base) !== undefined) return { ...base };
  return { file: base.file, line: base.line + line - 1, col: column + 1 };
}
