// A syntax error inside an expression, positioned by offset in the source text.
import { EvalFailure } from '../template/values.js';

export function posAt(src: string, offset: number): { line: number; column: number } {
  const before = src.slice(0, offset);
  return { line: before.split('\n').length, column: offset - (before.lastIndexOf('\n') + 1) };
}

export class ExprSyntaxError extends EvalFailure {
  constructor(
    src: string,
    readonly offset: number,
    message: string,
  ) {
    super(message, posAt(src, offset));
  }
}

/** `"... (a == 1"`: the source read so far, shortened from the left. */
export function readSoFar(src: string, offset: number): string {
  const text = src.slice(0, offset).trim().replace(/\s+/g, ' ');
  return text.length > 40 ? `…${text.slice(-40)}` : text;
}
