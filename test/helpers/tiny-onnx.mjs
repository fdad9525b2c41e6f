// Tiny ONNX models written byte by byte, for tests that build real TensorRT engines at test time
// (test/gpu) and for the check that the bytes are valid ONNX (test/unit/tiny-onnx.test.ts runs them
// with onnxruntime-node on the CPU). A minimal protobuf writer for the few ModelProto fields these
// models need (field numbers from onnx/onnx.proto); no dependency, so the GPU tier needs nothing
// but Node.js. The lib/onnx toolkit will replace this once it is merged.

const WIRE_VARINT = 0;
const WIRE_LENGTH = 2;

export const ElementType = Object.freeze({ FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10 });

function varint(value) {
  const bytes = [];
  let rest = BigInt(value);
  if (rest < 0n) rest += 1n << 64n; // two's complement, as protobuf encodes negative int64
  do {
    let byte = Number(rest & 0x7fn);
    rest >>= 7n;
    if (rest > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0n);
  return bytes;
}

const key = (field, wire) => varint((field << 3) | wire);
const utf8 = (text) => [...new TextEncoder().encode(text)];

function lengthDelimited(field, payload) {
  return [...key(field, WIRE_LENGTH), ...varint(payload.length), ...payload];
}
const stringField = (field, text) => lengthDelimited(field, utf8(text));
const varintField = (field, value) => [...key(field, WIRE_VARINT), ...varint(value)];
const messageField = (field, message) => lengthDelimited(field, message);

// TensorShapeProto.Dimension: dim_value = 1, dim_param = 2.
function dimension(dim) {
  return typeof dim === 'number' ? varintField(1, dim) : stringField(2, dim);
}

// ValueInfoProto { name = 1, type = 2 }, TypeProto { tensor_type = 1 }, TypeProto.Tensor
// { elem_type = 1, shape = 2 }, TensorShapeProto { dim = 1 }.
function valueInfo({ name, elemType, dims }) {
  const shape = dims.flatMap((dim) => messageField(1, dimension(dim)));
  const tensorType = [...varintField(1, elemType), ...messageField(2, shape)];
  return [...stringField(1, name), ...messageField(2, messageField(1, tensorType))];
}

// TensorProto { dims = 1, data_type = 2, name = 8, raw_data = 9 } (raw_data is little-endian).
function tensor({ name, elemType, dims, values }) {
  const array =
    elemType === ElementType.FLOAT
      ? Float32Array.from(values)
      : elemType === ElementType.INT64
        ? BigInt64Array.from(values, BigInt)
        : Int32Array.from(values);
  return [
    ...dims.flatMap((dim) => varintField(1, dim)),
    ...varintField(2, elemType),
    ...stringField(8, name),
    ...lengthDelimited(9, [...new Uint8Array(array.buffer)]),
  ];
}

// NodeProto { input = 1, output = 2, name = 3, op_type = 4 }.
function node({ opType, inputs, outputs, name }) {
  return [
    ...inputs.flatMap((input) => stringField(1, input)),
    ...outputs.flatMap((output) => stringField(2, output)),
    ...stringField(3, name ?? opType),
    ...stringField(4, opType),
  ];
}

/**
 * ModelProto { ir_version = 1, producer_name = 2, graph = 7, opset_import = 8, metadata_props = 14 }
 * with GraphProto { node = 1, name = 2, initializer = 5, input = 11, output = 12 }. `metadata`: string
 * key/value pairs (StringStringEntryProto { key = 1, value = 2 }).
 */
export function encodeModel({ name = 'tiny', nodes, inputs, outputs, initializers = [], opset = 17, metadata = {} }) {
  const graph = [
    ...nodes.flatMap((item) => messageField(1, node(item))),
    ...stringField(2, name),
    ...initializers.flatMap((item) => messageField(5, tensor(item))),
    ...inputs.flatMap((item) => messageField(11, valueInfo(item))),
    ...outputs.flatMap((item) => messageField(12, valueInfo(item))),
  ];
  const opsetImport = [...stringField(1, ''), ...varintField(2, opset)];
  const metadataProps = Object.entries(metadata).flatMap(([key, value]) =>
    messageField(14, [...stringField(1, key), ...stringField(2, value)]),
  );
  return Uint8Array.from([
    ...varintField(1, 8),
    ...stringField(2, 'tensorrt-node tests'),
    ...messageField(7, graph),
    ...messageField(8, opsetImport),
    ...metadataProps,
  ]);
}

/** A deterministic pseudo-random source, so failures reproduce. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * y = relu(x · W + b) with x [batch, 4] -> y [batch, 3], and z = x * x -> z [batch, 4]:
 * two outputs, a dynamic batch, and float math simple enough to recompute on the CPU.
 */
export function affineModel(seed = 7) {
  const next = random(seed);
  const weights = Array.from({ length: 12 }, () => next() * 2 - 1);
  const bias = Array.from({ length: 3 }, () => next() - 0.5);
  const bytes = encodeModel({
    name: 'affine',
    inputs: [{ name: 'x', elemType: ElementType.FLOAT, dims: ['batch', 4] }],
    outputs: [
      { name: 'y', elemType: ElementType.FLOAT, dims: ['batch', 3] },
      { name: 'z', elemType: ElementType.FLOAT, dims: ['batch', 4] },
    ],
    initializers: [
      { name: 'W', elemType: ElementType.FLOAT, dims: [4, 3], values: weights },
      { name: 'b', elemType: ElementType.FLOAT, dims: [3], values: bias },
    ],
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
      { opType: 'Add', inputs: ['xw', 'b'], outputs: ['xwb'] },
      { opType: 'Relu', inputs: ['xwb'], outputs: ['y'] },
      { opType: 'Mul', inputs: ['x', 'x'], outputs: ['z'] },
    ],
  });
  /** The same math in float64 on the CPU, for comparison within a tolerance. */
  function reference(x, batch) {
    const y = new Float64Array(batch * 3);
    const z = new Float64Array(batch * 4);
    for (let n = 0; n < batch; n++) {
      for (let j = 0; j < 3; j++) {
        let sum = bias[j];
        for (let i = 0; i < 4; i++) sum += x[n * 4 + i] * weights[i * 3 + j];
        y[n * 3 + j] = Math.max(0, sum);
      }
      for (let i = 0; i < 4; i++) z[n * 4 + i] = x[n * 4 + i] * x[n * 4 + i];
    }
    return { y, z };
  }
  return { bytes, weights, bias, reference, input: 'x', features: 4 };
}

/**
 * indices = NonZero(x) for x [2, 4] -> int64 [2, nnz] (a data-dependent shape: TensorRT needs an
 * output allocator), next to y = relu(x) [2, 4] (a static one).
 */
export function nonZeroModel() {
  const bytes = encodeModel({
    name: 'nonzero',
    inputs: [{ name: 'x', elemType: ElementType.FLOAT, dims: [2, 4] }],
    outputs: [
      { name: 'y', elemType: ElementType.FLOAT, dims: [2, 4] },
      { name: 'indices', elemType: ElementType.INT64, dims: [2, 'nnz'] },
    ],
    nodes: [
      { opType: 'Relu', inputs: ['x'], outputs: ['y'] },
      { opType: 'NonZero', inputs: ['x'], outputs: ['indices'] },
    ],
    opset: 17,
  });
  function reference(x) {
    const rows = [];
    const cols = [];
    for (let r = 0; r < 2; r++) {
      for (let c = 0; c < 4; c++) {
        if (x[r * 4 + c] !== 0) {
          rows.push(r);
          cols.push(c);
        }
      }
    }
    return {
      indices: BigInt64Array.from([...rows, ...cols], BigInt),
      nnz: rows.length,
      y: Float32Array.from(x, (value) => Math.max(0, value)),
    };
  }
  return { bytes, reference };
}

/** `count` pseudo-random floats in [-1, 1). */
export function randomFloats(count, seed) {
  const next = random(seed);
  return Float32Array.from({ length: count }, () => next() * 2 - 1);
}
