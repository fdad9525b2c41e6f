/**
 * Structural checks run on every model read: versions this toolkit understands and a graph whose
 * every tensor is defined before use (no dangling inputs, no missing initializers). These catch
 * broken files with a clear message before onnxruntime or TensorRT report something cryptic.
 */
import { ErrorCode, OnnxError } from '../core/errors.js';
import { forEachStoredTensor, subgraphsOf } from './graph.js';
import { tensorElementCount } from './tensor-data.js';
import { MAX_IR_VERSION, MAX_OPSET, MIN_IR_VERSION, MIN_OPSET, type GraphProto, type ModelProto } from './proto.js';

/** The opset of the default ONNX domain ('' or 'ai.onnx'), or undefined when the model imports none. */
export function defaultOpset(model: ModelProto): number | undefined {
  const entry = model.opsetImport.find((opset) => opset.domain === '' || opset.domain === 'ai.onnx');
  return entry ? Number(entry.version) : undefined;
}

function fail(message: string): never {
  throw new OnnxError(ErrorCode.ONNX, message);
}

/** `node "name" (Op)`, or `node #index (Op)` for unnamed nodes. */
export function nodeLabel(node: { name: string; opType: string }, index: number): string {
  return `node ${node.name ? JSON.stringify(node.name) : `#${index}`} (${node.opType})`;
}

/**
 * The names visible from the graph being checked: its own and those of every enclosing graph. One
 * structure for the whole walk, so that a subgraph costs its own size and not its outer scope's
 * (copying the outer names per subgraph made a 1.8 MB model with 100k initializers and 3,000 If
 * nodes take minutes). A name counts how many enclosing scopes define it, so that leaving a scope
 * that shadowed a name keeps the outer definition visible.
 */
export class ScopedNames {
  readonly #visible = new Map<string, number>();
  readonly #scopes: Set<string>[] = [];

  /** Enters a graph: names defined from now on belong to it. */
  enter(): void {
    this.#scopes.push(new Set());
  }

  /** Leaves the current graph: its names are no longer visible. */
  leave(): void {
    for (const name of this.#scopes.pop() ?? []) {
      const count = this.#visible.get(name)!;
      if (count === 1) this.#visible.delete(name);
      else this.#visible.set(name, count - 1);
    }
  }

  /** Defines `name` in the current graph; false when it already is (defined twice in one graph). */
  define(name: string): boolean {
    const scope = this.#scopes.at(-1)!;
    if (scope.has(name)) return false;
    scope.add(name);
    this.#visible.set(name, (this.#visible.get(name) ?? 0) + 1);
    return true;
  }

  has(name: string): boolean {
    return this.#visible.has(name);
  }

  /** Whether the current graph itself defines `name` (not only an enclosing one). */
  definesHere(name: string): boolean {
    return this.#scopes.at(-1)?.has(name) ?? false;
  }
}

/**
 * How deeply subgraphs (If/Loop/Scan bodies) may nest. Real models nest a few levels. A file cannot
 * go deeper than about 31 anyway (the protobuf decoder stops at 100 nested messages, three per
 * level); the bound holds models built in memory to the same, so every recursive pass of the toolkit
 * stays far from the stack's limit.
 */
export const MAX_SUBGRAPH_DEPTH = 32;

/**
 * Throws ERR_ONNX when subgraphs nest deeper than MAX_SUBGRAPH_DEPTH. Iterative (no recursion to
 * overflow) and stops at the first graph too deep; called on every model read and every model a
 * transform or inspect() is handed.
 */
export function checkSubgraphDepth(graph: GraphProto, sourceName: string): void {
  const pending: [GraphProto, number][] = [[graph, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (depth > MAX_SUBGRAPH_DEPTH)
      fail(
        `Expected subgraphs nested at most ${MAX_SUBGRAPH_DEPTH} deep in ${sourceName} but received deeper nesting (at ${JSON.stringify(current.name)})`,
      );
    for (const node of current.node) for (const subgraph of subgraphsOf(node)) pending.push([subgraph, depth + 1]);
  }
}

function checkGraph(graph: GraphProto, names: ScopedNames, where: string): void {
  names.enter();
  try {
    // Inputs and initializers may repeat each other (IR < 4 lists initializers among the inputs).
    for (const input of graph.input) names.define(input.name);
    for (const tensor of graph.initializer) names.define(tensor.name);
    for (const sparse of graph.sparseInitializer) if (sparse.values?.name) names.define(sparse.values.name);

    const producers = new Map<string, string>();
    const producedLater = new Set<string>();
    for (const node of graph.node) for (const output of node.output) if (output) producedLater.add(output);

    graph.node.forEach((node, index) => {
      const label = nodeLabel(node, index);
      node.input.forEach((input, inputIndex) => {
        if (input === '' || names.has(input)) return;
        if (producedLater.has(input)) {
          fail(
            `Expected a tensor defined earlier for input ${inputIndex} of ${label} in ${where} but received ${JSON.stringify(input)}, which a later node produces (the graph is not topologically sorted)`,
          );
        }
        fail(
          `Expected a defined tensor for input ${inputIndex} of ${label} in ${where} but received ${JSON.stringify(input)}, which no graph input, initializer or earlier node defines`,
        );
      });
      for (const subgraph of subgraphsOf(node))
        checkGraph(subgraph, names, `${where} > subgraph ${JSON.stringify(subgraph.name)} of ${label}`);
      for (const output of node.output) {
        if (!output) continue;
        const previous = producers.get(output);
        if (previous !== undefined || names.definesHere(output)) {
          fail(
            `Expected each tensor to be defined once in ${where} but received ${JSON.stringify(output)} again as an output of ${label}${previous ? ` (first from ${previous})` : ''}`,
          );
        }
        producers.set(output, label);
        names.define(output);
      }
    });
    for (const output of graph.output) {
      if (!names.has(output.name))
        fail(
          `Expected graph output ${JSON.stringify(output.name)} of ${where} to be defined but received a name that no node, input or initializer defines`,
        );
    }
  } finally {
    names.leave();
  }
}

/** Throws OnnxError (ERR_ONNX) when `model` is not a model this toolkit can work with. */
export function checkModel(model: ModelProto, sourceName: string): void {
  if (!model.graph)
    fail(`Expected an ONNX model (ModelProto protobuf) for ${sourceName} but received a protobuf message with no graph`);
  const irVersion = Number(model.irVersion);
  if (irVersion < MIN_IR_VERSION || irVersion > MAX_IR_VERSION) {
    fail(
      `Expected an ONNX IR version between ${MIN_IR_VERSION} and ${MAX_IR_VERSION} for ${sourceName} but received ${irVersion}`,
    );
  }
  const opset = defaultOpset(model);
  const usesDefaultDomain = model.graph.node.some((node) => node.domain === '' || node.domain === 'ai.onnx');
  if (opset === undefined && usesDefaultDomain)
    fail(`Expected an opset import for the default ONNX domain in ${sourceName} but received none`);
  if (opset !== undefined && (opset < MIN_OPSET || opset > MAX_OPSET)) {
    fail(`Expected a default-domain opset between ${MIN_OPSET} and ${MAX_OPSET} for ${sourceName} but received ${opset}`);
  }
  checkSubgraphDepth(model.graph, sourceName); // before checkGraph recurses
  checkGraph(model.graph, new ScopedNames(), sourceName);
  // Stored tensors with impossible dims would make every later reader allocate from a bogus count.
  forEachStoredTensor(model, (tensor) => void tensorElementCount(tensor));
}
