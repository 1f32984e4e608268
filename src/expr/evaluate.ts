// The evaluator: walks the syntax tree over the vars. No JS is ever generated
// or called by name: members are read through getMember (own data only),
// methods come from a fixed table. Undefined values flow as markers so that
// `is defined` and `default()` can see them; anything else that touches one
// fails with the variable's name and position.
import type { HelperEnv } from '../template/helpers.js';
import { compareValues } from '../template/helpers.js';
import { hasTemplateText, missingReason, resolveLazy, type RenderEnv } from '../template/render.js';
import { EvalFailure, Undefined, deepEqual, getMember, MISSING, pyStr, truthy, typeName } from '../template/values.js';
import {
  UnsafeText,
  isUnsafeContainer,
  isUnsafeText,
  plain,
  taintChild,
  unwrapUnsafe,
  withPlainInputs,
} from '../unsafe.js';
import type { Node } from './ast.js';
import { isSecretContainer, noteSecretRead } from '../vault/secrecy.js';
import { posAt } from './errors.js';
import { FILTERS, FUNCTIONS, TESTS, callMethod, containsValue } from './filters.js';

interface Ref {
  value: unknown;
  /** straight from the vars: a template string in it is still to be rendered */
  raw: boolean;
  /** dotted path from the vars root, for loop detection of lazy vars */
  key?: string;
  /** the path went through a vault-secret list/mapping (src/vault/secrecy.ts) */
  viaSecret?: boolean;
}

export class Evaluator {
  constructor(
    private readonly src: string,
    private readonly env: RenderEnv & HelperEnv,
  ) {}

  /** The value of a node; may be an Undefined marker. */
  evaluate(node: Node): unknown {
    return this.at(node, () => this.evalNode(node));
  }

  /**
   * The value of a node, or an Undefined marker also when a var's template on the way is undefined:
   * as Jinja's lazy undefined in Ansible, `x is defined` is false (not an error) for `x: "{{ nope }}"`.
   */
  private evaluateOrUndefined(node: Node): unknown {
    try {
      return this.evaluate(node);
    } catch (e) {
      if (e instanceof EvalFailure && e.undefinedVar) return new Undefined(this.text(node), e.message);
      throw e;
    }
  }

  /** The value of a node, which must be defined. */
  value(node: Node): unknown {
    const v = this.evaluate(node);
    if (v instanceof Undefined) throw this.fail(node, v.message(), true);
    return v;
  }

  private fail(node: Node, message: string, undefinedVar = false): EvalFailure {
    return new EvalFailure(message, posAt(this.src, node.start), false, undefinedVar);
  }

  /** Gives a position to failures raised without one (in filters, member access, ...). */
  private at<T>(node: Node, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof EvalFailure && !e.pos) throw this.fail(node, e.message, e.undefinedVar);
      if (e instanceof EvalFailure || !(e instanceof Error)) throw e;
      throw this.fail(node, e.message); // e.g. a RangeError from a regex on huge input
    }
  }

  private text(node: Node): string {
    return this.src.slice(node.start, node.end).trim();
  }

  private evalNode(node: Node): unknown {
    switch (node.k) {
      case 'lit':
        return node.value;
      case 'list':
        return node.items.map((n) => this.value(n));
      case 'dict': {
        const out: Record<string, unknown> = {};
        for (const [k, v] of node.entries) {
          const key = plain(this.value(k));
          if (typeof key !== 'string' && typeof key !== 'number')
            throw this.fail(k, `a mapping key must be a string or number, got ${typeName(key)}`);
          if (key === '__proto__') throw this.fail(k, "access to '__proto__' is not allowed");
          out[String(key)] = this.value(v);
        }
        return out;
      }
      case 'name':
      case 'attr':
      case 'index': {
        const ref = this.ref(node);
        noteSecretRead(ref.value, ref.viaSecret);
        return ref.raw ? resolveLazy(ref.value, ref.key, this.env) : ref.value;
      }
      case 'slice':
        return this.slice(node);
      case 'call':
        return this.call(node);
      case 'unary': {
        const v = this.value(node.operand);
        if (node.op === 'not') return !truthy(v);
        const n = this.number(node.operand, v, node.op);
        return node.op === '-' ? -n : n;
      }
      case 'bin': {
        // text made from unsafe text is unsafe (`'x' ~ r.stdout`)
        const operands = [this.value(node.left), this.value(node.right)];
        return withPlainInputs(operands, ([a, b]) => this.arithmetic(node.op, node.left, a, node.right, b));
      }
      case 'and': {
        const l = this.value(node.left);
        return truthy(l) ? this.value(node.right) : l;
      }
      case 'or': {
        const l = this.value(node.left);
        return truthy(l) ? l : this.value(node.right);
      }
      case 'cmp': {
        let left = this.value(node.first);
        for (const [op, rightNode] of node.rest) {
          const right = this.value(rightNode);
          if (!this.at(rightNode, () => compare(op, unwrapUnsafe(left), unwrapUnsafe(right)))) return false;
          left = right;
        }
        return true;
      }
      case 'filter': {
        const def = FILTERS[node.name];
        const input = def.acceptsUndefined ? this.evaluateOrUndefined(node.input) : this.value(node.input);
        const args = node.args.map((a) => this.value(a));
        const kwargs = Object.fromEntries(Object.entries(node.kwargs).map(([k, v]) => [k, this.value(v)]));
        // filters work on plain strings; what they make from unsafe input is unsafe
        return withPlainInputs([input, args, kwargs], ([i, a, k]) =>
          def.fn(i, a as unknown[], k as Record<string, unknown>, this.env),
        );
      }
      case 'test': {
        const def = TESTS[node.name];
        const input = def.acceptsUndefined ? this.evaluateOrUndefined(node.input) : this.value(node.input);
        const result = def.fn(unwrapUnsafe(input), unwrapUnsafe(node.args.map((a) => this.value(a))), this.env);
        return node.negated ? !result : result;
      }
      case 'cond':
        if (truthy(this.value(node.test))) return this.evaluate(node.then);
        return node.otherwise ? this.evaluate(node.otherwise) : null;
    }
  }

  /** Walks `a.b[0]` over the raw data, rendering only the template strings on the way. */
  private ref(node: Node): Ref {
    if (node.k === 'name') {
      if (this.env.scope) {
        // inside a template: loop vars, `{% set %}` names and block params come first
        const found = this.env.scope(node.name);
        return found === MISSING ? { value: new Undefined(node.name), raw: false } : found;
      }
      const v = getMember(this.env.vars, node.name);
      if (v === MISSING) return { value: new Undefined(node.name), raw: false };
      return { value: v, raw: !isUnsafeContainer(v), key: node.name, viaSecret: isSecretContainer(v) };
    }
    if (node.k !== 'attr' && node.k !== 'index') return { value: this.evaluate(node), raw: false };
    const base = this.ref(node.obj);
    if (base.value instanceof Undefined) return base; // `a.b is defined` is false when `a` is undefined
    let obj = base.value;
    let raw = base.raw && !isUnsafeContainer(obj);
    if (raw && typeof obj === 'string' && hasTemplateText(obj)) {
      obj = resolveLazy(obj, base.key, this.env);
      raw = false;
    }
    let member: string | number;
    if (node.k === 'attr') member = node.name;
    else {
      const idx = plain(this.value(node.index));
      if (typeof idx === 'number' && Number.isInteger(idx)) member = idx;
      else if (typeof idx === 'string') member = idx;
      else throw this.fail(node.index, `an index must be an integer or a string, got ${typeName(idx)}`);
    }
    const next = this.at(node, () => getMember(obj, member, true));
    const key = base.key !== undefined ? `${base.key}.${member}` : undefined;
    if (next === MISSING) {
      return {
        value: new Undefined(this.text(node), missingReason(this.text(node.obj), obj, String(member))),
        raw: false,
      };
    }
    // what is read out of unsafe data is unsafe too
    const viaSecret = base.viaSecret === true || isSecretContainer(next);
    return { value: isUnsafeContainer(obj) ? taintChild(next) : next, raw, key, viaSecret };
  }

  private slice(node: Extract<Node, { k: 'slice' }>): unknown {
    const value = this.value(node.obj);
    if (isUnsafeText(value)) return new UnsafeText(this.sliceOf(node, value.text) as string);
    return this.sliceOf(node, value);
  }

  private sliceOf(node: Extract<Node, { k: 'slice' }>, obj: unknown): unknown {
    if (typeof obj !== 'string' && !Array.isArray(obj)) throw this.fail(node.obj, `cannot slice a ${typeName(obj)}`);
    const bound = (n: Node | undefined, fallback: number): number => {
      if (!n) return fallback;
      const v = this.value(n);
      if (typeof v !== 'number' || !Number.isInteger(v))
        throw this.fail(n, `a slice bound must be an integer, got ${typeName(v)}`);
      return v;
    };
    return obj.slice(bound(node.from, 0), bound(node.to, obj.length));
  }

  private call(node: Extract<Node, { k: 'call' }>): unknown {
    const args = node.args.map((a) => this.value(a));
    const kwargs = Object.fromEntries(Object.entries(node.kwargs).map(([k, v]) => [k, this.value(v)]));
    if (node.callee.k === 'name') {
      const fn = Object.prototype.hasOwnProperty.call(FUNCTIONS, node.callee.name)
        ? FUNCTIONS[node.callee.name]
        : undefined;
      if (!fn) throw this.fail(node, `unknown function '${node.callee.name}'`);
      return withPlainInputs([args, kwargs], ([a, k]) => fn(a as unknown[], k as Record<string, unknown>, this.env));
    }
    if (node.callee.k === 'attr') {
      const obj = this.value(node.callee.obj);
      const name = node.callee.name;
      return withPlainInputs([obj, args], ([o, a]) => callMethod(o, name, a as unknown[]));
    }
    throw this.fail(node, 'this value cannot be called');
  }

  private number(node: Node, v: unknown, op: string): number {
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return Number(v);
    throw this.fail(node, `'${op}' needs a number, got ${typeName(v)} (convert with | int or | float)`);
  }

  private arithmetic(
    op: Extract<Node, { k: 'bin' }>['op'],
    leftNode: Node,
    a: unknown,
    rightNode: Node,
    b: unknown,
  ): unknown {
    if (op === '~') return pyStr(a) + pyStr(b);
    const isNum = (x: unknown): boolean => typeof x === 'number' || typeof x === 'boolean';
    if (op === '+') {
      if (typeof a === 'string' && typeof b === 'string') return a + b;
      if (Array.isArray(a) && Array.isArray(b)) return [...(a as unknown[]), ...(b as unknown[])];
      if (!isNum(a) || !isNum(b))
        throw this.fail(leftNode, `cannot add ${typeName(a)} and ${typeName(b)} (use ~ to join as text)`);
    }
    if (op === '*') {
      if ((typeof a === 'string' || Array.isArray(a)) && typeof b === 'number') return repeat(a, b);
      if ((typeof b === 'string' || Array.isArray(b)) && typeof a === 'number') return repeat(b, a);
    }
    const x = this.number(leftNode, a, op);
    const y = this.number(rightNode, b, op);
    switch (op) {
      case '+':
        return x + y;
      case '-':
        return x - y;
      case '*':
        return x * y;
      case '**':
        return x ** y;
      default:
        if (y === 0) throw this.fail(rightNode, 'division by zero');
        if (op === '/') return x / y;
        if (op === '//') return Math.floor(x / y);
        return ((x % y) + y) % y; // Python's modulo takes the divisor's sign
    }
  }
}

function repeat(v: string | unknown[], n: number): string | unknown[] {
  const times = Math.max(0, Math.trunc(n));
  if (times * v.length > 1_000_000) throw new EvalFailure('result too large');
  return typeof v === 'string' ? v.repeat(times) : Array.from({ length: times }, () => v).flat();
}

function compare(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==':
      return deepEqual(a, b);
    case '!=':
      return !deepEqual(a, b);
    case 'in':
      return containsValue(b, a);
    case 'not in':
      return !containsValue(b, a);
    case '<':
      return compareValues(a, b, op) < 0;
    case '<=':
      return compareValues(a, b, op) <= 0;
    case '>':
      return compareValues(a, b, op) > 0;
    default:
      return compareValues(a, b, op) >= 0;
  }
}
