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

type Visit = (field: number, start: number, end: number, depth: number) => void;

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
 * `nested` go to `visit`; every other field is skipped. `onVarint` sees varint fields.
 */
function walk(bytes: Uint8Array, start: number, end: number, depth: number, nested: ReadonlySet<number>, visit: Visit, onVarint?: (field: number, value: number) => void): void {
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
      if (nested.has(field)) visit(field, position.at, fieldEnd, depth + 1);
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

function tensor(bytes: Uint8Array, start: number, end: number, depth: number): void {
  walk(
    bytes,
    start,
    end,
    depth,
    new Set([TENSOR.externalData]),
    () => {
      throw new NeedsCheck(); // an external_data entry
    },
    (field, value) => {
      if (field === TENSOR.dataLocation && value === EXTERNAL) throw new NeedsCheck();
    },
  );
}

function sparseTensor(bytes: Uint8Array, start: number, end: number, depth: number): void {
  walk(bytes, start, end, depth, new Set([SPARSE_TENSOR.values, SPARSE_TENSOR.indices]), (_field, from, to, inner) => tensor(bytes, from, to, inner));
}

function attribute(bytes: Uint8Array, start: number, end: number, depth: number): void {
  walk(bytes, start, end, depth, new Set(Object.values(ATTRIBUTE)), (field, from, to, inner) => {
    if (field === ATTRIBUTE.t || field === ATTRIBUTE.tensors) tensor(bytes, from, to, inner);
    else if (field === ATTRIBUTE.g || field === ATTRIBUTE.graphs) graph(bytes, from, to, inner);
    else sparseTensor(bytes, from, to, inner);
  });
}

function node(bytes: Uint8Array, start: number, end: number, depth: number): void {
  walk(bytes, start, end, depth, new Set([NODE.attribute]), (_field, from, to, inner) => attribute(bytes, from, to, inner));
}

function graph(bytes: Uint8Array, start: number, end: number, depth: number): void {
  walk(bytes, start, end, depth, new Set(Object.values(GRAPH)), (field, from, to, inner) => {
    if (field === GRAPH.node) node(bytes, from, to, inner);
    else if (field === GRAPH.initializer) tensor(bytes, from, to, inner);
    else sparseTensor(bytes, from, to, inner);
  });
}

function model(bytes: Uint8Array): void {
  let graphs = 0;
  walk(bytes, 0, bytes.length, 0, new Set(Object.values(MODEL)), (field, from, to, depth) => {
    if (field === MODEL.graph) {
      graphs++;
      graph(bytes, from, to, depth);
    } else if (field === MODEL.trainingInfo) {
      walk(bytes, from, to, depth, new Set(Object.values(TRAINING_INFO)), (_inner, start, end, innerDepth) => graph(bytes, start, end, innerDepth));
    } else {
      walk(bytes, from, to, depth, new Set(Object.values(FUNCTION)), (inner, start, end, innerDepth) => (inner === FUNCTION.node ? node(bytes, start, end, innerDepth) : attribute(bytes, start, end, innerDepth)));
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
