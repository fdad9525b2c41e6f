/**
 * A quick look at an ONNX model's protobuf wire format, for the cpu backend's worker: does any
 * stored tensor point at external data? Only those need the full check (external-data.ts: every
 * location confined to the model's folder) before onnxruntime opens them.
 *
 * Why not decode: decoding with the toolkit's reader means loading protobuf-es and the generated
 * onnx.proto code in the worker (~0.3-0.5 s of a cold start) and building every message of the model
 * (~40% of onnxruntime's own load time for PP-OCRv4), only to learn that nothing is external, the
 * common case. This walks just the messages that can hold a tensor and skips everything else by its
 * length (weights included), so it costs a fraction of a millisecond per MB and imports nothing.
 *
 * It answers 'clean' only when it is sure: wire data it cannot walk (not protobuf, truncated, an
 * unknown wire type) answers 'check', and so does any tensor with external data entries or the
 * EXTERNAL data location, anywhere a tensor can be (graphs and their subgraphs, functions, training
 * info), a superset of what onnxruntime reads.
 */

/** 'clean': no tensor refers to external data; 'check': decode and check the model fully. */
export type ScanVerdict = 'clean' | 'check';

/** onnx.proto field numbers of the messages on the way to a TensorProto. */
const MODEL = { graph: 7, trainingInfo: 20, functions: 25 } as const;
const TRAINING_INFO = { initialization: 1, algorithm: 2 } as const;
const FUNCTION = { node: 7, attributeProto: 11 } as const;
const GRAPH = { node: 1, initializer: 5, sparseInitializer: 15 } as const;
const NODE = { attribute: 5 } as const;
const ATTRIBUTE = { t: 5, g: 6, tensors: 10, graphs: 11, sparseTensor: 22, sparseTensors: 23 } as const;
const SPARSE_TENSOR = { values: 1, indices: 2 } as const;
const TENSOR = { externalData: 13, dataLocation: 14 } as const;
const EXTERNAL = 1;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

/** Thrown inside the walk when the verdict is 'check'; never escapes scanModelBytes. */
class NeedsCheck extends Error {}

/** Nested messages deeper than this are left to the full check (a hostile model could nest without end). */
const MAX_DEPTH = 64;

/** Visits one nested message (a length-delimited field of a wanted number) of `bytes`. */
type Visit = (bytes: Uint8Array, field: number, start: number, end: number, depth: number) => void;

function readVarint(bytes: Uint8Array, position: { at: number }, end: number): number {
  let value = 0;
  let scale = 1;
  for (let index = 0; index < 10; index++) {
    if (position.at >= end) throw new NeedsCheck();
    const byte = bytes[position.at++]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return value;
    scale *= 128;
  }
  throw new NeedsCheck();
}

/**
 * Walks the fields of one message in bytes[start, end): length-delimited fields whose number is in
 * `nested` go to `visit`; every other field is skipped. `onVarint` sees varint fields. (The sets and
 * visitors are module constants: a model has thousands of messages, and none allocates here.)
 */
function walk(
  bytes: Uint8Array,
  start: number,
  end: number,
  depth: number,
  nested: ReadonlySet<number>,
  visit: Visit,
  onVarint?: (field: number, value: number) => void,
): void {
  if (depth > MAX_DEPTH) throw new NeedsCheck();
  const position = { at: start };
  while (position.at < end) {
    const key = readVarint(bytes, position, end);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new NeedsCheck();
    if (wire === WIRE_VARINT) {
      const value = readVarint(bytes, position, end);
      onVarint?.(field, value);
    } else if (wire === WIRE_LENGTH) {
      const length = readVarint(bytes, position, end);
      const fieldEnd = position.at + length;
      if (fieldEnd > end) throw new NeedsCheck();
      if (nested.has(field)) visit(bytes, field, position.at, fieldEnd, depth + 1);
      position.at = fieldEnd;
    } else if (wire === WIRE_FIXED64) {
      position.at += 8;
    } else if (wire === WIRE_FIXED32) {
      position.at += 4;
    } else {
      throw new NeedsCheck(); // groups (3, 4) and the invalid 6, 7: not what ONNX writes
    }
  }
  if (position.at !== end) throw new NeedsCheck();
}

const TENSOR_NESTED = new Set<number>([TENSOR.externalData]);
const SPARSE_TENSOR_NESTED = new Set<number>(Object.values(SPARSE_TENSOR));
const ATTRIBUTE_NESTED = new Set<number>(Object.values(ATTRIBUTE));
const NODE_NESTED = new Set<number>([NODE.attribute]);
const GRAPH_NESTED = new Set<number>(Object.values(GRAPH));
const MODEL_NESTED = new Set<number>(Object.values(MODEL));
const TRAINING_INFO_NESTED = new Set<number>(Object.values(TRAINING_INFO));
const FUNCTION_NESTED = new Set<number>(Object.values(FUNCTION));

const externalEntry: Visit = () => {
  throw new NeedsCheck(); // an external_data entry
};
const externalLocation = (field: number, value: number): void => {
  if (field === TENSOR.dataLocation && value === EXTERNAL) throw new NeedsCheck();
};
const tensor: Visit = (bytes, _field, start, end, depth) =>
  walk(bytes, start, end, depth, TENSOR_NESTED, externalEntry, externalLocation);
const sparseTensor: Visit = (bytes, _field, start, end, depth) => walk(bytes, start, end, depth, SPARSE_TENSOR_NESTED, tensor);
const attributeField: Visit = (bytes, field, start, end, depth) => {
  if (field === ATTRIBUTE.t || field === ATTRIBUTE.tensors) tensor(bytes, field, start, end, depth);
  else if (field === ATTRIBUTE.g || field === ATTRIBUTE.graphs) graph(bytes, field, start, end, depth);
  else sparseTensor(bytes, field, start, end, depth);
};
const attribute: Visit = (bytes, _field, start, end, depth) => walk(bytes, start, end, depth, ATTRIBUTE_NESTED, attributeField);
const node: Visit = (bytes, _field, start, end, depth) => walk(bytes, start, end, depth, NODE_NESTED, attribute);
const graphField: Visit = (bytes, field, start, end, depth) => {
  if (field === GRAPH.node) node(bytes, field, start, end, depth);
  else if (field === GRAPH.initializer) tensor(bytes, field, start, end, depth);
  else sparseTensor(bytes, field, start, end, depth);
};
const graph: Visit = (bytes, _field, start, end, depth) => walk(bytes, start, end, depth, GRAPH_NESTED, graphField);
const trainingInfo: Visit = (bytes, _field, start, end, depth) => walk(bytes, start, end, depth, TRAINING_INFO_NESTED, graph);
const functionField: Visit = (bytes, field, start, end, depth) =>
  (field === FUNCTION.node ? node : attribute)(bytes, field, start, end, depth);
const functionProto: Visit = (bytes, _field, start, end, depth) => walk(bytes, start, end, depth, FUNCTION_NESTED, functionField);

function model(bytes: Uint8Array): void {
  let graphs = 0;
  walk(bytes, 0, bytes.length, 0, MODEL_NESTED, (_bytes, field, start, end, depth) => {
    if (field === MODEL.graph) {
      graphs++;
      graph(bytes, field, start, end, depth);
    } else if (field === MODEL.trainingInfo) {
      trainingInfo(bytes, field, start, end, depth);
    } else {
      functionProto(bytes, field, start, end, depth);
    }
  });
  // No graph at all: not a model onnxruntime can load, and the full check says so in our words.
  if (graphs === 0) throw new NeedsCheck();
}

/** Whether `bytes` (an ONNX model) certainly has no external data ('clean'), or needs the full check. */
export function scanModelBytes(bytes: Uint8Array): ScanVerdict {
  try {
    model(bytes);
    return 'clean';
  } catch (error) {
    if (error instanceof NeedsCheck) return 'check';
    throw error;
  }
}
