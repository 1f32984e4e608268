// A small unified line diff for --diff (before/after texts of files and settings).

export function unifiedDiff(
  before: string,
  after: string,
  beforeName = 'before',
  afterName = 'after',
  context = 3,
): string {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  const ops = lineOps(a, b);
  const out: string[] = [`--- ${beforeName}`, `+++ ${afterName}`];
  // group changes into hunks with `context` lines around them
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && ops[i].op === ' ') i++;
    if (i >= ops.length) break;
    let start = Math.max(0, i - context);
    let end = i;
    while (end < ops.length) {
      if (ops[end].op !== ' ') {
        end++;
        continue;
      }
      let run = 0;
      while (end + run < ops.length && ops[end + run].op === ' ') run++;
      if (end + run >= ops.length || run > context * 2) {
        end = Math.min(ops.length, end + context);
        break;
      }
      end += run;
    }
    const hunk = ops.slice(start, end);
    const aStart = (hunk.find((o) => o.op !== '+')?.ai ?? 0) + 1;
    const bStart = (hunk.find((o) => o.op !== '-')?.bi ?? 0) + 1;
    out.push(
      `@@ -${aStart},${hunk.filter((o) => o.op !== '+').length} +${bStart},${hunk.filter((o) => o.op !== '-').length} @@`,
    );
    for (const o of hunk) out.push(`${o.op}${o.text}`);
    i = end;
    start = end;
  }
  return out.join('\n') + '\n';
}

interface Op {
  op: ' ' | '-' | '+';
  text: string;
  ai: number;
  bi: number;
}

/** LCS over lines; files we diff are config-sized, so O(n·m) is fine up to a cap. */
function lineOps(a: string[], b: string[]): Op[] {
  if (a.length * b.length > 4_000_000) {
    return [
      ...a.map((text, ai) => ({ op: '-' as const, text, ai, bi: 0 })),
      ...b.map((text, bi) => ({ op: '+' as const, text, ai: a.length, bi })),
    ];
  }
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ op: ' ', text: a[i], ai: i++, bi: j++ });
    else if (j < m && (i >= n || lcs[i][j + 1] >= lcs[i + 1][j])) ops.push({ op: '+', text: b[j], ai: i, bi: j++ });
    else ops.push({ op: '-', text: a[i], ai: i++, bi: j });
  }
  return ops;
}
