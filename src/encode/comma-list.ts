// Comma lists (a storage's `content`, `nodes`): an element holding a comma adds
// an element of its own (`node1,node2` given as one node name adds node2).
import { lineProblem } from './line.js';
import { ValueRefused } from './property-string.js';

/** Why `element` cannot be one element of a comma list, or undefined when it can. */
export function listElementProblem(element: string): string | undefined {
  if (element === '') return 'must not be empty';
  if (element.includes(',')) return 'must not contain commas ("," would add another element to the list)';
  return lineProblem(element);
}

/** `['images', 'rootdir']` → `images,rootdir`, every element checked. */
export function printCommaList(elements: Iterable<string>): string {
  const out: string[] = [];
  for (const e of elements) {
    const why = listElementProblem(e);
    if (why) throw new ValueRefused(`list element ${JSON.stringify(e)} ${why}`);
    out.push(e);
  }
  return out.join(',');
}
