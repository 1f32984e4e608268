// The syntax tree of a condition. `start`/`end` are offsets in the source, for messages.
export type Node =
  | { k: 'lit'; value: unknown; start: number; end: number }
  | { k: 'list'; items: Node[]; start: number; end: number }
  | { k: 'dict'; entries: Array<[Node, Node]>; start: number; end: number }
  | { k: 'name'; name: string; start: number; end: number }
  | { k: 'attr'; obj: Node; name: string; start: number; end: number }
  | { k: 'index'; obj: Node; index: Node; start: number; end: number }
  | { k: 'slice'; obj: Node; from?: Node; to?: Node; start: number; end: number }
  | { k: 'call'; callee: Node; args: Node[]; kwargs: Record<string, Node>; start: number; end: number }
  | { k: 'unary'; op: 'not' | '-' | '+'; operand: Node; start: number; end: number }
  | {
      k: 'bin';
      op: '+' | '-' | '*' | '/' | '//' | '%' | '**' | '~';
      left: Node;
      right: Node;
      start: number;
      end: number;
    }
  | { k: 'and' | 'or'; left: Node; right: Node; start: number; end: number }
  | { k: 'cmp'; first: Node; rest: Array<[CompareOp, Node]>; start: number; end: number }
  | { k: 'filter'; input: Node; name: string; args: Node[]; kwargs: Record<string, Node>; start: number; end: number }
  | { k: 'test'; input: Node; name: string; args: Node[]; negated: boolean; start: number; end: number }
  | { k: 'cond'; test: Node; then: Node; otherwise?: Node; start: number; end: number };

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in';
