/**
 * Graph passes cost the size of the model, not names x subgraphs (issue 19 #3): a model with many
 * initializers and many If nodes used to make every subgraph copy its outer scope, so reading a
 * 1.8 MB model took minutes. Work is counted, not timed: every Set.add and Map.set a pass makes
 * (copying a Set or Map into a new one adds each entry again), against the number of names and
 * nodes in the model. The wall-clock figures are in benchmarks/graph-pass.ts.
 */
import { toBinary } from '@bufbuild/protobuf';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OnnxError } from '../../lib/core/errors.js';
import { MAX_SUBGRAPH_DEPTH } from '../../lib/onnx/check.js';
import { convertToFp16 } from '../../lib/onnx/fp16.js';
import { inspect } from '../../lib/onnx/inspect.js';
import { parseModel, serializeModel } from '../../lib/onnx/model.js';
import { ModelProtoSchema } from '../../lib/onnx/proto.js';
import { expectError, expectErrorSync } from '../helpers/expect-error.js';
import { subgraphHeavyModel } from '../helpers/onnx-fixtures.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Set.add and Map.set calls made by `action` (spying disables V8's fast copy, so copies count too). */
async function insertionsDuring(action: () => unknown): Promise<number> {
  const add = vi.spyOn(Set.prototype, 'add');
  const set = vi.spyOn(Map.prototype, 'set');
  await action();
  const count = add.mock.calls.length + set.mock.calls.length;
  add.mockRestore();
  set.mockRestore();
  return count;
}

describe('graph passes scale with the model, not with names x subgraphs', () => {
  const names = 2000;
  const subgraphs = 200;
  // Names plus nodes plus graphs: what a linear pass may touch a few times each.
  const size = names + subgraphs * 3 + subgraphs * 2;
  const bytes = serializeModel(subgraphHeavyModel({ names, subgraphs }));

  it('reading the model (checkModel) does work linear in its size', async () => {
    const insertions = await insertionsDuring(() => parseModel(bytes));
    // A copy of the outer scope per subgraph alone would be subgraphs x 2 x names = 800,000.
    expect(insertions).toBeLessThan(10 * size);
  });

  it("inspect() does work linear in the model's size", async () => {
    const model = parseModel(bytes);
    expect(await insertionsDuring(() => inspect(model))).toBeLessThan(10 * size);
  });

  it("FP16 autocast does work linear in the model's size (element types are layered per subgraph, not copied)", async () => {
    const model = parseModel(bytes);
    expect(await insertionsDuring(() => convertToFp16(model))).toBeLessThan(40 * size);
  });

  it('still refuses a subgraph that reads a name its outer scope defines only later, and accepts shadowing as before', () => {
    const model = subgraphHeavyModel({ names: 3, subgraphs: 2 });
    const graph = model.proto.graph!;
    // The first If's then-branch reads y1, which the second If produces only afterwards.
    graph.node[0]!.attribute[0]!.g!.node[0]!.input[0] = 'y1';
    expectErrorSync(
      () => parseModel(serializeModel(model)),
      OnnxError,
      'ERR_ONNX',
      'Expected a defined tensor for input 0 of node "then0_identity" (Identity) in <bytes> > subgraph "then0" of node "if0" (If) but received "y1", which no graph input, initializer or earlier node defines',
    );
  });
});

describe('declared nesting is bounded', () => {
  const nested = (depth: number) => subgraphHeavyModel({ names: 1, subgraphs: 1, depth });

  it('reads subgraphs nested 31 deep (the most a file can hold) and transforms them', async () => {
    const model = parseModel(serializeModel(nested(31)));
    expect((await inspect(model)).subgraphCount).toBe(2 * (2 * 31 - 1)); // both branches of the top If start a chain
    expect(convertToFp16(model).model).toBeDefined();
  });

  it('BAD CALL - a file nesting subgraphs 40 deep: ERR_ONNX from the decoder, saying why', () => {
    // Encoded directly: serializeModel itself refuses to encode a model nested this deep.
    expectErrorSync(
      () => parseModel(toBinary(ModelProtoSchema, nested(40).proto)),
      OnnxError,
      'ERR_ONNX',
      /^Expected an ONNX model \(ModelProto protobuf\) for <bytes> but received bytes that are not valid protobuf \(cannot decode message onnx\.\w+ from binary: maximum recursion depth of 100 reached; subgraphs can nest about 31 deep in a file\)$/,
    );
  });

  it(`BAD CALL - a model built in memory nesting 5,000 deep: ERR_ONNX naming the bound of ${MAX_SUBGRAPH_DEPTH}, no stack overflow`, async () => {
    const model = nested(1);
    let graph = model.proto.graph!.node[0]!.attribute[0]!.g!;
    for (let level = 0; level < 5000; level++) {
      const inner = nested(1).proto.graph!.node[0]!;
      graph.node = [inner];
      graph = inner.attribute[0]!.g!;
    }
    const message =
      /^Expected subgraphs nested at most 32 deep in <subgraph_heavy> but received deeper nesting \(at "(then|else)0"\)$/;
    await expectError(() => inspect(model), OnnxError, 'ERR_ONNX', message);
    expectErrorSync(() => convertToFp16(model), OnnxError, 'ERR_ONNX', message);
  });
});
