/** ONNX reader/writer round trips, robustness to mutated bytes and protos, and the FP16/INT8 transforms. */
import { create, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { convertToFp16 } from '../../../lib/onnx/fp16.js';
import { inspect } from '../../../lib/onnx/inspect.js';
import { valueInfoElemType } from '../../../lib/onnx/graph.js';
import { parseModel, readModel, serializeModel, writeModel, type OnnxModel } from '../../../lib/onnx/model.js';
import { DataLocation, ModelProtoSchema, StringStringEntryProtoSchema } from '../../../lib/onnx/proto.js';
import { quantizeInt8 } from '../../../lib/precision/quantize.js';
import { returnsOrThrowsTyped, type FuzzProperty } from '../harness.js';
import { buildSpec, modelSpecArbitrary, tensorNames, type ModelSpec } from '../models.js';

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.length === b.length &&
    Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0
  );
}

const scratch = mkdtempSync(join(tmpdir(), 'tensorrt-node-fuzz-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
let fileCounter = 0;

/** Byte-level damage: flips, truncation, insertion, deletion, and overwriting with varint-looking bytes. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }),
  fc.record({
    kind: fc.constant('overwrite' as const),
    at: fc.nat(),
    bytes: fc.constantFrom(
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f),
      Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
      Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x07),
      Uint8Array.of(0, 0, 0, 0),
    ),
  }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let current = Buffer.from(bytes);
  for (const change of mutations) {
    if (current.length === 0) break;
    const at = change.at % current.length;
    if (change.kind === 'flip') current[at] = current[at]! ^ (1 << change.bit);
    else if (change.kind === 'truncate') current = current.subarray(0, at);
    else if (change.kind === 'insert') current = Buffer.concat([current.subarray(0, at), change.bytes, current.subarray(at)]);
    else if (change.kind === 'delete') current = Buffer.concat([current.subarray(0, at), current.subarray(at + change.length)]);
    else current = Buffer.concat([current.subarray(0, at), change.bytes, current.subarray(at + change.bytes.length)]);
  }
  return new Uint8Array(current);
}

/** Everything a reader may do with a model it accepted; each step returns or throws typed. */
async function exerciseReaders(model: OnnxModel): Promise<void> {
  await returnsOrThrowsTyped(() => inspect(model));
  await returnsOrThrowsTyped(() => serializeModel(model));
  await returnsOrThrowsTyped(() => convertToFp16(model));
}

/** Structure-aware damage to a valid model: dims, element types, raw data and external-data entries. */
const protoMutation = fc.oneof(
  fc.record({
    kind: fc.constant('dims' as const),
    tensor: fc.nat(),
    dims: fc.array(
      fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom(-1n, 0n, 1n << 31n, 1n << 40n)),
      { maxLength: 5 },
    ),
  }),
  fc.record({ kind: fc.constant('dataType' as const), tensor: fc.nat(), dataType: fc.integer({ min: -1, max: 40 }) }),
  fc.record({ kind: fc.constant('rawData' as const), tensor: fc.nat(), length: fc.nat({ max: 4096 }) }),
  fc.record({
    kind: fc.constant('external' as const),
    tensor: fc.nat(),
    location: fc.oneof(fc.string(), fc.constantFrom('/etc/passwd', '../x', '..\\x', 'a/../../b', 'w.bin\0', '.', '')),
    offset: fc.oneof(fc.nat().map(String), fc.string()),
    length: fc.oneof(fc.nat().map(String), fc.string(), fc.constant(String(2n ** 64n))),
  }),
  fc.record({ kind: fc.constant('opset' as const), version: fc.bigInt({ min: -5n, max: 100n }) }),
  fc.record({
    kind: fc.constant('rename' as const),
    node: fc.nat(),
    name: fc.oneof(fc.string(), fc.constant('x'), fc.constant('y'), fc.constant('')),
  }),
);

type ProtoMutation = typeof protoMutation extends fc.Arbitrary<infer M> ? M : never;

function applyProtoMutation(model: OnnxModel, change: ProtoMutation): void {
  const graph = model.proto.graph!;
  const tensors = graph.initializer;
  if (change.kind === 'opset') {
    model.proto.opsetImport[0]!.version = change.version;
    return;
  }
  if (change.kind === 'rename') {
    const node = graph.node[change.node % graph.node.length]!;
    node.output[0] = change.name;
    return;
  }
  if (tensors.length === 0) return;
  const tensor = tensors[change.tensor % tensors.length]!;
  if (change.kind === 'dims') tensor.dims = change.dims;
  else if (change.kind === 'dataType') tensor.dataType = change.dataType;
  else if (change.kind === 'rawData') tensor.rawData = new Uint8Array(change.length);
  else {
    tensor.rawData = new Uint8Array(0);
    tensor.dataLocation = DataLocation.EXTERNAL;
    tensor.externalData = [
      create(StringStringEntryProtoSchema, { key: 'location', value: change.location }),
      create(StringStringEntryProtoSchema, { key: 'offset', value: change.offset }),
      create(StringStringEntryProtoSchema, { key: 'length', value: change.length }),
    ];
  }
}

function randomInput(spec: ModelSpec, seed: number): Float32Array {
  const values = new Float32Array(2 * spec.channels);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < values.length; index++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[index] = (state / 2 ** 32) * 2 - 1;
  }
  return values;
}

async function runInOnnxRuntime(model: OnnxModel, spec: ModelSpec, seed: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(serializeModel(model), { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const outputs = await session.run({ x: new ort.Tensor('float32', randomInput(spec, seed), [2, spec.channels]) });
    return outputs.y!.data as Float32Array;
  } finally {
    await session.release();
  }
}

export const onnxProperties: FuzzProperty[] = [
  {
    name: 'onnx: serialize -> parse -> serialize is byte-identical',
    weight: 5,
    property: () =>
      fc.property(modelSpecArbitrary(), (spec) => {
        const bytes = serializeModel(buildSpec(spec));
        const again = serializeModel(parseModel(bytes));
        if (!equalBytes(bytes, again)) throw new Error('the second serialization differs');
      }),
  },
  {
    name: 'onnx: writeModel -> readModel round trip, inline or with external data',
    weight: 1, // each case writes and fsyncs files: ~10 ms
    property: () =>
      fc.asyncProperty(
        modelSpecArbitrary(),
        fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 4096 })),
        async (spec, threshold) => {
          const model = buildSpec(spec);
          const path = join(scratch, `model-${fileCounter++}.onnx`);
          await writeModel(model, path, threshold === null ? undefined : { externalData: { threshold } });
          const back = await readModel(path);
          if (!equalBytes(serializeModel(model), serializeModel(back)))
            throw new Error('the model read back differs from the model written');
          rmSync(path, { force: true });
          rmSync(`${path}.data`, { force: true });
        },
      ),
  },
  {
    name: 'onnx: mutated bytes are read or refused with a typed error, never crash',
    weight: 15,
    property: () =>
      fc.asyncProperty(modelSpecArbitrary(), fc.array(mutation, { minLength: 1, maxLength: 6 }), async (spec, mutations) => {
        const bytes = mutate(serializeModel(buildSpec(spec)), mutations);
        const parsed = await returnsOrThrowsTyped(() => parseModel(bytes));
        await returnsOrThrowsTyped(() => readModel(bytes, { baseDir: scratch }));
        if (parsed.ok) await exerciseReaders(parsed.value as OnnxModel);
      }),
  },
  {
    name: 'onnx: structurally damaged models (dims, types, data, external data, opsets, names) fail typed',
    weight: 12,
    property: () =>
      fc.asyncProperty(modelSpecArbitrary(), fc.array(protoMutation, { minLength: 1, maxLength: 3 }), async (spec, changes) => {
        const model = buildSpec(spec);
        for (const change of changes) applyProtoMutation(model, change);
        const encoded = await returnsOrThrowsTyped(() => serializeModel(model));
        if (encoded.ok) {
          const parsed = await returnsOrThrowsTyped(() => readModel(encoded.value as Uint8Array, { baseDir: scratch }));
          if (parsed.ok) await exerciseReaders(parsed.value as OnnxModel);
        }
        // Transforms take models straight from memory too, unchecked: they must refuse typed as well.
        await exerciseReaders(model);
      }),
  },
  {
    name: 'fp16: the converted graph is valid, its I/O are kept, the input model is untouched',
    weight: 3,
    property: () =>
      fc.property(
        modelSpecArbitrary(),
        fc.boolean(),
        fc.boolean(),
        fc.subarray(['Softmax', 'Sigmoid', 'Tanh', 'Gemm']),
        (spec, keepIoTypes, keepOutOfRange, blockOpTypes) => {
          const model = buildSpec(spec);
          const before = toBinary(ModelProtoSchema, model.proto);
          const { model: converted } = convertToFp16(model, { keepIoTypes, keepOutOfRange, blockOpTypes });
          if (!equalBytes(before, toBinary(ModelProtoSchema, model.proto)))
            throw new Error('convertToFp16 changed its input model');
          const reparsed = parseModel(serializeModel(converted)); // checkModel: every tensor defined once, before use
          const io = (candidate: OnnxModel) =>
            [...candidate.proto.graph!.input, ...candidate.proto.graph!.output].map((info) =>
              keepIoTypes ? `${info.name}:${valueInfoElemType(info)}` : info.name,
            );
          if (JSON.stringify(io(reparsed)) !== JSON.stringify(io(model)))
            throw new Error(`graph I/O changed: ${JSON.stringify(io(model))} -> ${JSON.stringify(io(reparsed))}`);
        },
      ),
  },
  {
    name: 'fp16: the converted model runs in onnxruntime and stays close to float32',
    weight: 0,
    fixedRuns: 200,
    property: () =>
      fc.asyncProperty(modelSpecArbitrary(), fc.integer(), async (spec, seed) => {
        const model = buildSpec(spec);
        const reference = await runInOnnxRuntime(model, spec, seed);
        const converted = convertToFp16(model).model;
        const actual = await runInOnnxRuntime(converted, spec, seed);
        if (actual.length !== reference.length) throw new Error(`output length ${actual.length}, float32 ${reference.length}`);
        reference.forEach((want, index) => {
          const got = actual[index]!;
          // float16 keeps ~3 decimal digits per op; a chain of up to 6 ops with sums of 8 terms stays within 5%.
          if (Number.isFinite(want) && Math.abs(want) < 1000 && !(Math.abs(got - want) <= 0.05 * (1 + Math.abs(want))))
            throw new Error(`output ${index}: float16 ${got}, float32 ${want}`);
        });
      }),
  },
  {
    name: 'int8: Q/DQ insertion keeps the graph valid and runnable in onnxruntime',
    weight: 0,
    fixedRuns: 200,
    property: () =>
      fc.asyncProperty(
        modelSpecArbitrary({ requireLinear: true }),
        fc.boolean(),
        fc.integer(),
        fc.double({ min: 0.01, max: 10, noNaN: true }),
        async (spec, perChannel, seed, amax) => {
          const model = buildSpec(spec);
          const before = toBinary(ModelProtoSchema, model.proto);
          const tensors = Object.fromEntries(
            tensorNames(model).map((name, index) => [name, { amax: amax * (1 + (index % 3)), max: amax * 4 }]),
          );
          const { model: quantized, report } = await quantizeInt8(model, {
            calibrationTable: { format: 'tensorrt-node-calibration', version: 1, method: 'max', samples: 1, tensors },
            perChannel,
          });
          if (!equalBytes(before, toBinary(ModelProtoSchema, model.proto)))
            throw new Error('quantizeInt8 changed its input model');
          if (report.activationQdq === 0 || report.weightsQuantized === 0)
            throw new Error(`no Q/DQ inserted: ${JSON.stringify(report)}`);
          const reparsed = parseModel(serializeModel(quantized));
          const output = await runInOnnxRuntime(reparsed, spec, seed);
          if (
            output.length !==
            2 * spec.ops.reduce((channels, op) => (op.kind === 'matmul' || op.kind === 'gemm' ? op.out : channels), spec.channels)
          )
            throw new Error(`output length ${output.length}`);
          if (!output.every(Number.isFinite)) throw new Error('non-finite INT8 output');
        },
      ),
  },
];
