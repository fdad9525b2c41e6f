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

function nodeLabel(node: { name: string; opType: string }, index: number): string {
  return `node ${node.name ? JSON.stringify(node.name) : `#${index}`} (${node.opType})`;
}

function checkGraph(graph: GraphProto, outer: ReadonlySet<string>, where: string): void {
  const defined = new Set<string>(outer);
  const producers = new Map<string, string>();
  for (const input of graph.input) defined.add(input.name);
  for (const tensor of graph.initializer) defined.add(tensor.name);
  for (const sparse of graph.sparseInitializer) if (sparse.values?.name) defined.add(sparse.values.name);

  const producedLater = new Set<string>();
  for (const node of graph.node) for (const output of node.output) if (output) producedLater.add(output);

  graph.node.forEach((node, index) => {
    const label = nodeLabel(node, index);
    node.input.forEach((input, inputIndex) => {
      if (input === '' || defined.has(input)) return;
      if (producedLater.has(input)) {
        fail(`Expected a tensor defined earlier for input ${inputIndex} of ${label} in ${where} but received ${JSON.stringify(input)}, which a later node produces (the graph is not topologically sorted)`);
      }
      fail(`Expected a defined tensor for input ${inputIndex} of ${label} in ${where} but received ${JSON.stringify(input)}, which no graph input, initializer or earlier node defines`);
    });
    for (const subgraph of subgraphsOf(node)) checkGraph(subgraph, defined, `${where} > subgraph ${JSON.stringify(subgraph.name)} of ${label}`);
    for (const output of node.output) {
      if (!output) continue;
      const previous = producers.get(output);
      if (previous !== undefined || (defined.has(output) && !outer.has(output))) {
        fail(`Expected each tensor to be defined once in ${where} but received ${JSON.stringify(output)} again as an output of ${label}${previous ? ` (first from ${previous})` : ''}`);
      }
      producers.set(output, label);
      defined.add(output);
    }
  });
  for (const output of graph.output) {
    if (!defined.has(output.name)) fail(`Expected graph output ${JSON.stringify(output.name)} of ${where} to be defined but received a name that no node, input or initializer defines`);
  }
}

/** Throws OnnxError (ERR_ONNX) when `model` is not a model this toolkit can work with. */
export function checkModel(model: ModelProto, sourceName: string): void {
  if (!model.graph) fail(`Expected an ONNX model (ModelProto protobuf) for ${sourceName} but received a protobuf message with no graph`);
  const irVersion = Number(model.irVersion);
  if (irVersion < MIN_IR_VERSION || irVersion > MAX_IR_VERSION) {
    fail(`Expected an ONNX IR version between ${MIN_IR_VERSION} and ${MAX_IR_VERSION} for ${sourceName} but received ${irVersion}`);
  }
  const opset = defaultOpset(model);
  const usesDefaultDomain = model.graph.node.some((node) => node.domain === '' || node.domain === 'ai.onnx');
  if (opset === undefined && usesDefaultDomain) fail(`Expected an opset import for the default ONNX domain in ${sourceName} but received none`);
  if (opset !== undefined && (opset < MIN_OPSET || opset > MAX_OPSET)) {
    fail(`Expected a default-domain opset between ${MIN_OPSET} and ${MAX_OPSET} for ${sourceName} but received ${opset}`);
  }
  checkGraph(model.graph, new Set(), sourceName);
  // Stored tensors with impossible dims would make every later reader allocate from a bogus count.
  forEachStoredTensor(model, (tensor) => void tensorElementCount(tensor));
}
