import { create, toBinary } from '@bufbuild/protobuf';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArgumentTypeError, OnnxError } from '../../lib/core/errors.js';
import { makeNode } from '../../lib/onnx/graph.js';
import { cloneModel, parseModel, readModel, serializeModel, writeModel } from '../../lib/onnx/model.js';
import { DataLocation, ModelProtoSchema, StringStringEntryProtoSchema, TensorProtoSchema } from '../../lib/onnx/proto.js';
import { tensorValues } from '../../lib/onnx/tensor-data.js';
import { expectError } from '../helpers/expect-error.js';
import { buildModel, mlpModel, ppocr, temporaryFolder } from '../helpers/onnx-fixtures.js';

/** An MLP whose first weight (2048 bytes) points at `location` (offset/length as given); writes the model and, unless told not to, a data file. */
function externalModel(
  folder: string,
  location: string,
  { offset = 0, length, writeData = true }: { offset?: number; length?: number; writeData?: boolean } = {},
): string {
  const model = mlpModel();
  const weight = model.proto.graph!.initializer[0]!;
  const entries = [
    create(StringStringEntryProtoSchema, { key: 'location', value: location }),
    create(StringStringEntryProtoSchema, { key: 'offset', value: String(offset) }),
  ];
  if (length !== undefined) entries.push(create(StringStringEntryProtoSchema, { key: 'length', value: String(length) }));
  weight.rawData = new Uint8Array(0);
  weight.externalData = entries;
  weight.dataLocation = DataLocation.EXTERNAL;
  const path = join(folder, 'model.onnx');
  writeFileSync(path, serializeModel(model));
  if (writeData && !location.startsWith('/') && !location.includes('..'))
    writeFileSync(join(folder, location), new Uint8Array(32 * 16 * 4));
  return path;
}

describe('ONNX model reading and writing', () => {
  it('round-trips the PP-OCR models byte for byte (IR 8, weights in Constant nodes)', async () => {
    for (const path of [ppocr.det, ppocr.cls]) {
      const bytes = readFileSync(path);
      const model = await readModel(path);
      expect(Number(model.proto.irVersion)).toBe(8);
      expect(Buffer.from(serializeModel(model)).equals(bytes)).toBe(true);
    }
  });

  it('keeps fields the schema does not know and writes them back unchanged', () => {
    const known = serializeModel(mlpModel());
    const unknownField = Uint8Array.of(0x98, 0x06, 0x2a); // field 99, varint 42: from a future ONNX
    const bytes = new Uint8Array([...known, ...unknownField]);
    const model = parseModel(bytes);
    expect(model.proto.$unknown).toEqual([{ no: 99, wireType: 0, data: Uint8Array.of(42) }]);
    expect(Buffer.from(serializeModel(model)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('reads IR 13 models (ONNX 1.20)', () => {
    const model = mlpModel();
    model.proto.irVersion = 13n;
    expect(Number(parseModel(serializeModel(model)).proto.irVersion)).toBe(13);
  });

  it('views raw tensor data in the file bytes instead of copying it', () => {
    const bytes = serializeModel(mlpModel());
    const model = parseModel(bytes);
    expect(model.proto.graph!.initializer[0]!.rawData.buffer).toBe(bytes.buffer);
  });

  it('writes external data next to the model and reads it back, identical', async () => {
    const folder = temporaryFolder();
    const model = mlpModel();
    await writeModel(model, join(folder, 'mlp.onnx'), { externalData: { threshold: 0 } });
    expect(readdirSync(folder).sort()).toEqual(['mlp.onnx', 'mlp.onnx.data']);
    const lazy = await readModel(join(folder, 'mlp.onnx'), { loadExternalData: false });
    expect(lazy.proto.graph!.initializer.every((tensor) => tensor.dataLocation === DataLocation.EXTERNAL)).toBe(true);
    const loaded = await readModel(join(folder, 'mlp.onnx'));
    for (const [index, tensor] of loaded.proto.graph!.initializer.entries()) {
      expect(tensor.dataLocation).toBe(DataLocation.DEFAULT);
      expect(tensorValues(tensor)).toEqual(tensorValues(model.proto.graph!.initializer[index]!));
    }
    // The in-memory model stayed self-contained while it was written.
    expect(model.proto.graph!.initializer.every((tensor) => tensor.rawData.length > 0)).toBe(true);
  });

  it('writes atomically: a failed write leaves the previous file and no temporary behind', async () => {
    const folder = temporaryFolder();
    const path = join(folder, 'model.onnx');
    writeFileSync(path, 'previous');
    const tooBig = cloneModel(mlpModel());
    const weight = tooBig.proto.graph!.initializer[0]!;
    weight.dataLocation = DataLocation.EXTERNAL;
    weight.externalData = [create(StringStringEntryProtoSchema, { key: 'location', value: 'x.bin' })];
    await expectError(
      () => writeModel(tooBig, path),
      OnnxError,
      'ERR_ONNX',
      /Expected every tensor to be in memory before writing .* but received tensor "fc1.weight" still in external data/,
    );
    await expectError(
      () => writeModel(mlpModel(), join(folder, 'missing-folder', 'model.onnx')),
      OnnxError,
      'ERR_IO',
      /^Cannot write .*\/missing-folder\/model\.onnx: the folder does not exist \(ENOENT\)$/,
    );
    expect(readFileSync(path, 'utf8')).toBe('previous');
    expect(readdirSync(folder)).toEqual(['model.onnx']);
  });

  it('BAD CALL - garbage bytes', async () => {
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'garbage.onnx'), 'hello world, this is not a model\n');
    await expectError(
      () => readModel(join(folder, 'garbage.onnx')),
      OnnxError,
      'ERR_ONNX',
      `Expected an ONNX model (ModelProto protobuf) for ${join(folder, 'garbage.onnx')} but received bytes that are not valid protobuf (cant skip wire type 4)`,
    );
  });

  it('BAD CALL - a truncated model', async () => {
    const bytes = readFileSync(ppocr.cls);
    await expectError(
      () => readModel(bytes.subarray(0, bytes.length - 1000)),
      OnnxError,
      'ERR_ONNX',
      'Expected an ONNX model (ModelProto protobuf) for <bytes> but received bytes that are not valid protobuf (premature end of data: the file is truncated)',
    );
  });

  it('BAD CALL - a valid protobuf that is not a model', async () => {
    const tensor = toBinary(
      TensorProtoSchema,
      create(TensorProtoSchema, { name: 'w', dims: [2n, 3n], dataType: 1, rawData: new Uint8Array(24) }),
    );
    await expectError(
      () => readModel(tensor),
      OnnxError,
      'ERR_ONNX',
      /^Expected an ONNX model \(ModelProto protobuf\) for <bytes> but received bytes that are not valid protobuf/,
    );
    await expectError(
      () => readModel(new Uint8Array(0)),
      OnnxError,
      'ERR_ONNX',
      'Expected an ONNX model (ModelProto protobuf) for <bytes> but received a protobuf message with no graph',
    );
  });

  it('BAD CALL - unsupported IR version and opset', async () => {
    const future = mlpModel();
    future.proto.irVersion = 14n;
    await expectError(
      () => readModel(serializeModel(future)),
      OnnxError,
      'ERR_ONNX',
      'Expected an ONNX IR version between 3 and 13 for <bytes> but received 14',
    );
    const future2 = mlpModel({ opset: 28 });
    await expectError(
      () => readModel(serializeModel(future2)),
      OnnxError,
      'ERR_ONNX',
      'Expected a default-domain opset between 1 and 27 for <bytes> but received 28',
    );
    const noOpset = mlpModel();
    noOpset.proto.opsetImport = [];
    await expectError(
      () => readModel(serializeModel(noOpset)),
      OnnxError,
      'ERR_ONNX',
      'Expected an opset import for the default ONNX domain in <bytes> but received none',
    );
  });

  it('BAD CALL - a missing initializer', async () => {
    const model = mlpModel();
    model.proto.graph!.initializer = model.proto.graph!.initializer.filter((tensor) => tensor.name !== 'fc2.weight');
    await expectError(
      () => readModel(serializeModel(model)),
      OnnxError,
      'ERR_ONNX',
      'Expected a defined tensor for input 1 of node "fc2" (MatMul) in <bytes> but received "fc2.weight", which no graph input, initializer or earlier node defines',
    );
  });

  it('BAD CALL - a dangling node input, an undefined graph output, unsorted nodes, a tensor defined twice', async () => {
    const dangling = mlpModel();
    dangling.proto.graph!.node[1]!.input[0] = 'nowhere';
    await expectError(
      () => readModel(serializeModel(dangling)),
      OnnxError,
      'ERR_ONNX',
      'Expected a defined tensor for input 0 of node "relu1" (Relu) in <bytes> but received "nowhere", which no graph input, initializer or earlier node defines',
    );
    const output = mlpModel();
    output.proto.graph!.output[0]!.name = 'ghost';
    await expectError(
      () => readModel(serializeModel(output)),
      OnnxError,
      'ERR_ONNX',
      'Expected graph output "ghost" of <bytes> to be defined but received a name that no node, input or initializer defines',
    );
    const unsorted = mlpModel();
    unsorted.proto.graph!.node.reverse();
    await expectError(
      () => readModel(serializeModel(unsorted)),
      OnnxError,
      'ERR_ONNX',
      /^Expected a tensor defined earlier for input 0 of node "fc2_bias" \(Add\) in <bytes> but received "fc2_out", which a later node produces \(the graph is not topologically sorted\)$/,
    );
    const twice = mlpModel();
    twice.proto.graph!.node.push(makeNode('Relu', ['y'], ['relu1_out'], 'again'));
    await expectError(
      () => readModel(serializeModel(twice)),
      OnnxError,
      'ERR_ONNX',
      'Expected each tensor to be defined once in <bytes> but received "relu1_out" again as an output of node "again" (Relu) (first from node "relu1" (Relu))',
    );
  });

  it('BAD CALL - a path that does not exist, a folder, a non-string source', async () => {
    const folder = temporaryFolder();
    await expectError(
      () => readModel(join(folder, 'nope.onnx')),
      OnnxError,
      'ERR_IO',
      `Expected a readable ONNX model file for ${join(folder, 'nope.onnx')} but received a path that does not exist`,
    );
    await expectError(
      () => readModel(folder),
      OnnxError,
      'ERR_ONNX',
      `Expected an ONNX model file for ${folder} but received a directory`,
    );
    await expectError(
      () => readModel(42 as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a file path or a Uint8Array for model but received 42 of type number',
    );
    await expectError(
      () => readModel(ppocr.cls, { loadExternalData: 'yes' } as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a boolean for options.loadExternalData but received "yes" of type string',
    );
  });
});

describe('external data safety', () => {
  it('reads data that stays inside the model folder, subfolders included', async () => {
    const folder = temporaryFolder();
    mkdirSync(join(folder, 'weights'));
    const path = externalModel(folder, 'weights/w.bin');
    const model = await readModel(path);
    expect(model.proto.graph!.initializer[0]!.rawData.length).toBe(32 * 16 * 4);
  });

  it('BAD CALL - an absolute location', async () => {
    const folder = temporaryFolder();
    const path = externalModel(folder, '/etc/passwd');
    await expectError(
      () => readModel(path),
      OnnxError,
      'ERR_ONNX',
      `Expected an external data location inside the model's folder ${folder} for tensor "fc1.weight" but received "/etc/passwd" (an absolute path)`,
    );
  });

  it('BAD CALL - a location escaping with ..', async () => {
    const folder = temporaryFolder();
    const path = externalModel(folder, 'weights/../../secret.bin');
    await expectError(
      () => readModel(path),
      OnnxError,
      'ERR_ONNX',
      `Expected an external data location inside the model's folder ${folder} for tensor "fc1.weight" but received "weights/../../secret.bin" (it escapes the folder with ..)`,
    );
  });

  it('BAD CALL - a symlink that leads out of the folder', async () => {
    const outside = temporaryFolder();
    writeFileSync(join(outside, 'secret.bin'), new Uint8Array(32 * 16 * 4));
    const folder = temporaryFolder();
    symlinkSync(join(outside, 'secret.bin'), join(folder, 'w.bin'));
    const path = externalModel(folder, 'w.bin', { writeData: false });
    await expectError(
      () => readModel(path),
      OnnxError,
      'ERR_ONNX',
      `Expected an external data location inside the model's folder ${folder} for tensor "fc1.weight" but received "w.bin" (a symlink leads out to ${join(outside, 'secret.bin')})`,
    );
  });

  it('BAD CALL - offsets and lengths outside the file, a missing file, a wrong length', async () => {
    const beyond = temporaryFolder();
    await expectError(
      () => readModel(externalModel(beyond, 'w.bin', { offset: 4096 })),
      OnnxError,
      'ERR_ONNX',
      'Expected external data for tensor "fc1.weight" within w.bin (2048 bytes) but received offset 4096, past its end',
    );
    const tooLong = temporaryFolder();
    await expectError(
      () => readModel(externalModel(tooLong, 'w.bin', { offset: 1024, length: 2048 })),
      OnnxError,
      'ERR_ONNX',
      'Expected external data for tensor "fc1.weight" within w.bin (2048 bytes) but received offset 1024 and length 2048, which end at byte 3072',
    );
    const short = temporaryFolder();
    await expectError(
      () => readModel(externalModel(short, 'w.bin', { length: 1024 })),
      OnnxError,
      'ERR_ONNX',
      'Expected 2048 bytes of external data for tensor "fc1.weight" (from its dims and type) but received a length of 1024',
    );
    const missing = temporaryFolder();
    const path = externalModel(missing, 'w.bin', { writeData: false });
    await expectError(
      () => readModel(path),
      OnnxError,
      'ERR_ONNX',
      `Expected an external data file at "w.bin" for tensor "fc1.weight" but received no such file in ${missing}`,
    );
    const negative = temporaryFolder();
    await expectError(
      () => readModel(externalModel(negative, 'w.bin', { offset: -1 })),
      OnnxError,
      'ERR_ONNX',
      'Expected a non-negative integer for external data "offset" of tensor "fc1.weight" but received "-1"',
    );
  });

  it('BAD CALL - external data in a model given as bytes alone', async () => {
    const folder = temporaryFolder();
    const bytes = readFileSync(externalModel(folder, 'w.bin'));
    await expectError(
      () => readModel(bytes),
      OnnxError,
      'ERR_ONNX',
      'Expected a model path or options.baseDir for <bytes>, whose tensor "fc1.weight" has external data, but received only bytes',
    );
    expect((await readModel(bytes, { baseDir: folder })).proto.graph!.initializer[0]!.rawData.length).toBe(2048);
    expect(existsSync(join(folder, 'w.bin'))).toBe(true);
  });

  it('builds models with any opset the fixtures need', () => {
    expect(buildModel(mlpModel().proto.graph!, { opset: 17 }).proto.opsetImport[0]!.version).toBe(17n);
    expect(create(ModelProtoSchema).graph).toBeUndefined();
  });
});
