/**
 * YAML with positions, hardened for hostile input. Every YAML file canary reads (plans,
 * scenarios) is parsed here into a `yaml` Document whose nodes keep their source ranges, so every
 * problem can name the exact line and column. A SourceFile is also the YAML side of the shape
 * reader (src/shape/reader.ts's `Tree`): the reader walks its nodes through it. Nothing here
 * throws for bad input: problems are collected and returned.
 */
import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type Scalar,
  visit,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import type { JsonValue } from '../domain/relay.js';
import type { PlanProblem } from '../errors.js';
import type { Kind, Pair, Tree } from '../shape/reader.js';

/** Plans are a few kilobytes; anything this big is a mistake or an attack, refused before parsing. */
export const MAX_SOURCE_BYTES = 1024 * 1024;
/**
 * The yaml composer recurses once per nesting level and overflows the stack near ~1000 levels
 * (and V8 has been seen to abort outright there), so deep input is refused before it gets that far.
 */
const MAX_FLOW_DEPTH = 64;
const MAX_BLOCK_INDENT = 256;
/**
 * Values a reader may visit in one file, aliases followed (each visit of an aliased node counts
 * again): a plan needs a few hundred, an alias bomb billions (the defence of yaml's maxAliasCount).
 */
const MAX_EXPANDED_NODES = 100_000;
const MAX_JSON_DEPTH = 64;

export type Collection = YAMLMap<unknown, unknown> | YAMLSeq<unknown>;
export type ValueNode = Scalar | Collection;

export class SourceFile implements Tree<ValueNode> {
  readonly problems: PlanProblem[] = [];
  private readonly lineCounter = new LineCounter();
  private anchors = new Map<string, Array<{ start: number; node: Node }>>();
  private linesCounted = false;
  private expandedNodes = 0;
  private aliasesFollowed = 0;
  private budgetReported = false;
  private silenced = false;
  doc: Document.Parsed | undefined;

  constructor(
    /** The file name as problems should show it. */
    readonly file: string,
    readonly text: string,
    /** What the file is, for the messages that refuse it whole ("the file nests too deeply to be a plan"). */
    readonly kind: string = 'plan',
  ) {}

  /** Parses the text; false when it is not usable YAML (problems say why). */
  parse(): boolean {
    const size = Buffer.byteLength(this.text, 'utf8');
    if (size > MAX_SOURCE_BYTES) {
      this.problemAt(0, '', `the file is ${formatBytes(size)}; ${this.kind}s are limited to 1 MiB`);
      return false;
    }
    const tooDeep = findExcessiveNesting(this.text);
    if (tooDeep !== undefined) {
      this.problemAt(tooDeep, '', `the file nests too deeply to be a ${this.kind}`);
      return false;
    }
    const doc = parseDocument(this.text, {
      lineCounter: this.lineCounter,
      prettyErrors: false,
      uniqueKeys: true,
      strict: true,
    });
    this.linesCounted = true;
    for (const issue of [...doc.errors, ...doc.warnings]) {
      this.problemAt(issue.pos[0], '', yamlMessage(issue.code, issue.message, this.kind));
    }
    if (this.problems.length > 0) return false;
    this.doc = doc;
    // An anchor is written `&name`: without an ampersand there is none to index, and the walk
    // over every node (≈ 0.1 ms cold, on every `canary validate`) can be skipped.
    if (this.text.includes('&')) this.indexAnchors(doc);
    return true;
  }

  problemAt(offset: number, path: string, message: string): void {
    // Once the budget is spent, whatever the walk meets next is fallout of that one problem.
    if (this.silenced) return;
    const at = Math.max(0, Math.min(offset, this.text.length));
    // Before parsing (file refused up front) the line counter knows no lines yet.
    const { line, col } = this.linesCounted ? this.lineCounter.linePos(at) : positionIn(this.text, at);
    this.problems.push({ file: this.file, line: Math.max(1, line), column: Math.max(1, col), path, message });
  }

  /** Reports a problem at the node a key path leads to (without following aliases), else the file start. */
  problemAtPath(keys: Array<string | number>, path: string, message: string): void {
    this.problem(this.nodeAt(keys), path, message);
  }

  positionOf(keys: Array<string | number>): { line: number; column: number } {
    const { line, col } = this.lineCounter.linePos(this.nodeAt(keys)?.range?.[0] ?? 0);
    return { line: Math.max(1, line), column: Math.max(1, col) };
  }

  private nodeAt(keys: Array<string | number>): Node | undefined {
    const node: unknown = this.doc?.getIn(keys, true);
    return isAlias(node) || isScalar(node) || isMap(node) || isSeq(node) ? node : undefined;
  }

  /** Reports a problem at a node (or the start of the file when there is no node). */
  problem(node: unknown, path: string, message: string): void {
    this.problemAt((node as Node | null | undefined)?.range?.[0] ?? 0, path, message);
  }

  problemWithin(node: unknown, needle: string, path: string, message: string): void {
    const range = (node as Node | null | undefined)?.range;
    const at = range ? this.text.slice(range[0], range[1]).indexOf(needle) : -1;
    if (range && at >= 0) this.problemAt(range[0] + at, path, message);
    else this.problem(node, path, message);
  }

  kindOf(value: ValueNode | undefined): Kind {
    if (value === undefined) return 'null';
    if (isMap(value)) return 'map';
    if (isSeq(value)) return 'list';
    return value.value === null ? 'null' : 'scalar';
  }

  scalar(value: ValueNode | undefined): unknown {
    return isScalar(value) ? value.value : undefined;
  }

  /** A mapping's pairs, keys resolved; a problem about an absent key points at the mapping. */
  pairs(map: ValueNode, path: string): Pair[] {
    return (map as YAMLMap<unknown, unknown>).items.map((pair) => ({
      keyAt: (pair.key as Node | null) ?? map,
      key: this.scalar(this.resolve(pair.key, path)),
      node: pair.value,
    }));
  }

  items(list: ValueNode): readonly unknown[] {
    return (list as YAMLSeq<unknown>).items;
  }

  /**
   * The node an alias stands for (or the node itself). Undefined for an unknown anchor or when
   * the alias budget is spent; the latter is reported once.
   */
  resolve(node: unknown, path: string): ValueNode | undefined {
    let current = node;
    for (let hops = 0; isAlias(current); hops++) {
      this.aliasesFollowed++;
      if (!this.spend(current, path) || hops > 100) return undefined;
      current = this.anchorFor(current);
    }
    if (!(isScalar(current) || isMap(current) || isSeq(current))) return undefined;
    // Every value a reader visits counts, not only aliases: `changes: *c` under each of 1,000
    // versions walks c's literal items 1,000 times, an alias bomb made of one alias per level.
    return this.spend(current, path) ? (current as ValueNode) : undefined;
  }

  /**
   * A JSON value for a free-form node (parameters, metadata, inline scenarios), following
   * aliases within a budget and refusing what JSON cannot hold.
   */
  toJson(node: unknown, path: string, depth = 0): JsonValue | undefined {
    const resolved = this.resolve(node, path);
    if (resolved === undefined) return undefined;
    if (depth > MAX_JSON_DEPTH) {
      this.problem(resolved, path, `${path}: nests deeper than ${MAX_JSON_DEPTH} levels`);
      return undefined;
    }
    if (isScalar(resolved)) {
      const value = resolved.value;
      if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      this.problem(
        resolved,
        path,
        `${path}: expected a JSON value (string, finite number, true/false or null)`,
      );
      return undefined;
    }
    if (isSeq(resolved)) {
      const out: JsonValue[] = [];
      resolved.items.forEach((item, i) => {
        const value = this.toJson(item, `${path}[${i}]`, depth + 1);
        if (value !== undefined) out.push(value);
      });
      return out;
    }
    const out: { [key: string]: JsonValue } = {};
    for (const pair of resolved.items) {
      const key = this.resolve(pair.key, path);
      if (!isScalar(key) || key.value === null || typeof key.value === 'object') {
        this.problem((pair.key as Node | null) ?? resolved, path, `${path}: keys must be plain strings`);
        continue;
      }
      const name = String(key.value);
      const value = pair.value === null ? null : this.toJson(pair.value, `${path}.${name}`, depth + 1);
      if (value !== undefined) Object.defineProperty(out, name, { value, enumerable: true, writable: true });
    }
    return out;
  }

  private spend(node: Node, path: string): boolean {
    this.expandedNodes++;
    if (this.expandedNodes <= MAX_EXPANDED_NODES) return true;
    if (!this.budgetReported) {
      this.budgetReported = true;
      this.problem(
        node,
        path,
        this.aliasesFollowed > 0
          ? 'YAML aliases expand too far (refusing a possible alias bomb)'
          : `the file holds more than ${MAX_EXPANDED_NODES} values`,
      );
      this.silenced = true;
    }
    return false;
  }

  private indexAnchors(doc: Document.Parsed): void {
    this.anchors = new Map();
    visit(doc, (_key, node) => {
      // visit() also calls back for empty documents and empty pair values (null).
      if (node === null || typeof node !== 'object' || isAlias(node)) return;
      const anchor = (node as { anchor?: string }).anchor;
      const start = (node as Node).range?.[0];
      if (anchor && start !== undefined) {
        const list = this.anchors.get(anchor) ?? [];
        list.push({ start, node: node as Node });
        this.anchors.set(anchor, list);
      }
    });
  }

  /** YAML's rule: an alias refers to the last node anchored with its name before it. */
  private anchorFor(alias: Alias): Node | undefined {
    const list = this.anchors.get(alias.source);
    const at = alias.range?.[0] ?? Number.POSITIVE_INFINITY;
    let found: Node | undefined;
    for (const entry of list ?? []) {
      if (entry.start < at) found = entry.node;
    }
    return found;
  }
}

/**
 * Offset of the first place where the text nests deeper than a plan ever would, or undefined.
 * Deliberately blind to quoting: over-counting only refuses absurd files, while a quote-aware
 * scanner could be tricked into under-counting.
 */
export function findExcessiveNesting(text: string): number | undefined {
  let flow = 0;
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10) {
      lineStart = true;
      indent = 0;
      continue;
    }
    if (lineStart) {
      // Compact nesting (`- - - x`, `? ? x`) costs a level per indicator, like indentation.
      const isIndicator = (ch === 45 || ch === 63 || ch === 58) && /[ \t]/.test(text[i + 1] ?? '');
      if (ch === 32 || ch === 9 || isIndicator) {
        indent++;
        if (indent > MAX_BLOCK_INDENT) return i;
        if (isIndicator) {
          i++;
          indent++;
        }
        continue;
      }
      lineStart = false;
    }
    if (ch === 91 || ch === 123) {
      flow++;
      if (flow > MAX_FLOW_DEPTH) return i;
    } else if ((ch === 93 || ch === 125) && flow > 0) {
      flow--;
    }
  }
  return undefined;
}

function positionIn(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

function yamlMessage(code: string, message: string, kind: string): string {
  if (code === 'DUPLICATE_KEY') return 'duplicate key: each key may appear only once in a mapping';
  if (code === 'MULTIPLE_DOCS') return `a ${kind} is one YAML document; remove the extra \`---\` documents`;
  return `YAML: ${message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '')}`;
}

function formatBytes(size: number): string {
  return size >= 1024 * 1024 ? `${(size / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(size / 1024)} KiB`;
}
