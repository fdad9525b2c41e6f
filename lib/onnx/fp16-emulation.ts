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
import { forEachGraph, makeNode, NameAllocator, renameUses } from './graph.js';
import { cloneModel, type OnnxModel } from './model.js';
import { DataType, type GraphProto } from './proto.js';
import { containerValues, inferElemTypes } from './types.js';

function emulateGraph(graph: GraphProto, outer: ReadonlyMap<string, number>, names: NameAllocator): void {
  const types = inferElemTypes(graph, outer);
  const containers = containerValues(graph);
  const graphOutputs = new Set(graph.output.map((output) => output.name));
  const rewritten = [];
  for (const node of graph.node) {
    rewritten.push(node);
    if (node.opType === 'Identity' && (node.domain === '' || node.domain === 'ai.onnx')) continue;
    for (const name of node.output) {
      if (!name || types.get(name) !== DataType.FLOAT16 || containers.has(name) || graphOutputs.has(name)) continue;
      const stored = names.next(`${name}_float16_stored`);
      renameUses(graph, name, stored);
      rewritten.push(makeNode('Identity', [name], [stored], names.next(`${name}_float16_store`)));
    }
  }
  graph.node = rewritten;
}

/** A copy of `model` whose float16 activations are rounded on every runtime (see the module comment). */
export function emulateFloat16Storage(model: OnnxModel): OnnxModel {
  const copy = cloneModel(model);
  const names = new NameAllocator(copy.proto);
  const scopes = new Map<GraphProto, Map<string, number>>();
  forEachGraph(copy.proto.graph!, (graph) => {
    const outer = scopes.get(graph) ?? new Map<string, number>();
    emulateGraph(graph, outer, names);
    // Types after the rewrite: subgraphs now read the stored copies.
    const types = inferElemTypes(graph, outer);
    for (const node of graph.node)
      for (const attribute of node.attribute)
        for (const subgraph of [attribute.g, ...attribute.graphs]) if (subgraph) scopes.set(subgraph, types);
  });
  return copy;
}
