/**
 * Faithful float16 on runtimes that compute float16 operators in float32. onnxruntime's CPU
 * provider has float16 kernels for few operators: for the others it inserts Cast(float16 -> float32)
 * before and Cast(float32 -> float16) after the node, then removes every float32 -> float16 ->
 * float32 round trip between two such nodes. The activations then never get rounded to float16,
 * and a converted model looks far more accurate on the CPU than it is on a GPU that stores them in
 * float16 (measured: Cast to float16 -> Relu -> Cast to float32 returns 1.0001 unchanged).
 *
 * The copy made here routes every float16 value a node produces through an Identity, which has a
 * float16 kernel, so no round trip is adjacent to another and each survives. Run it with graph
 * optimizations disabled (they would remove the Identity nodes again). Accuracy measurements of
 * float16 models (tensorrt-node/precision, the conformance run) use it; nothing else should.
 */
import { forEachGraph, forEachNode, makeNode, NameAllocator } from './graph.js';
import { cloneModel, type OnnxModel } from './model.js';
import { DataType, type GraphProto } from './proto.js';
import { containerValues, inferElemTypes, type ElemTypes } from './types.js';

/**
 * Stores every float16 value `graph`'s nodes produce through an Identity and returns the graph's
 * element types after the rewrite (the scope its subgraphs see).
 */
function emulateGraph(graph: GraphProto, outer: ReadonlyMap<string, number>, names: NameAllocator): ElemTypes {
  const types = inferElemTypes(graph, outer);
  const containers = containerValues(graph);
  const graphOutputs = new Set(graph.output.map((output) => output.name));
  const rewritten = [];
  // Value -> its stored copy. The stored names are fresh, so no rename feeds another and one pass
  // over the readers does what renaming after each value would (the first store of a value wins).
  const renames = new Map<string, string>();
  for (const node of graph.node) {
    rewritten.push(node);
    if (node.opType === 'Identity' && (node.domain === '' || node.domain === 'ai.onnx')) continue;
    for (const name of node.output) {
      if (!name || types.get(name) !== DataType.FLOAT16 || containers.has(name) || graphOutputs.has(name)) continue;
      const stored = names.next(`${name}_float16_stored`);
      if (!renames.has(name)) renames.set(name, stored);
      // Its type after the rewrite (a fresh name: no node output of this graph is checked against it).
      types.set(stored, DataType.FLOAT16);
      rewritten.push(makeNode('Identity', [name], [stored], names.next(`${name}_float16_store`)));
    }
  }
  // The readers in this graph and its subgraphs (outer-scope references included) read the stored
  // copies; the Identity nodes are not in graph.node yet, so they keep reading the originals.
  if (renames.size > 0)
    forEachNode(graph, (node) => {
      for (let index = 0; index < node.input.length; index++) {
        const stored = renames.get(node.input[index]!);
        if (stored !== undefined) node.input[index] = stored;
      }
    });
  graph.node = rewritten;
  // The types after the rewrite: every reader sees the type it saw before, now through the stored copy.
  return types;
}

/** A copy of `model` whose float16 activations are rounded on every runtime (see the module comment). */
export function emulateFloat16Storage(model: OnnxModel): OnnxModel {
  const copy = cloneModel(model);
  const names = new NameAllocator(copy.proto);
  const scopes = new Map<GraphProto, ElemTypes>();
  forEachGraph(copy.proto.graph!, (graph) => {
    // Subgraphs read the stored copies: they see their graph's types after the rewrite.
    const types = emulateGraph(graph, scopes.get(graph) ?? new Map<string, number>(), names);
    for (const node of graph.node)
      for (const attribute of node.attribute)
        for (const subgraph of [attribute.g, ...attribute.graphs]) if (subgraph) scopes.set(subgraph, types);
  });
  return copy;
}
