/**
 * The CI share of `npm run conformance`: a handful of cases of the ONNX backend-test corpus that once
 * broke the converters (sequences, control flow, float32-only operators, scatter with reduction,
 * opset 6 models, function bodies with float32 constants), run exactly as the full run runs them.
 * The corpus is not committed: without .deps/onnx-tests these tests are skipped (the full run's
 * result is committed in benchmarks/results/onnx-conformance.md).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CORPUS_ROOT, corpusPresent, listCases } from '../../benchmarks/conformance/corpus.js';
import { runCase } from '../../benchmarks/conformance/run-case.js';

const CASES = [
  'simple/test_sequence_model1',
  'simple/test_sequence_model5',
  'node/test_loop11',
  'node/test_scan9_sum',
  'node/test_celu',
  'node/test_mvn',
  'node/test_scatternd_add',
  'node/test_optional_get_element_tensor',
  'node/test_layer_normalization_4d_axis0_expanded',
  'node/test_bitcast_float32_to_int32',
  'pytorch-converted/test_Conv2d',
  'pytorch-converted/test_Linear_no_bias',
];

const present = corpusPresent(DEFAULT_CORPUS_ROOT);

describe.skipIf(!present)(
  `ONNX backend-test conformance on ${CASES.length} cases${present ? '' : ' (skipped: no corpus in .deps/onnx-tests; `npm run conformance` says how to fetch it)'}`,
  () => {
    const cases = present ? listCases(DEFAULT_CORPUS_ROOT) : [];
    for (const id of CASES) {
      it(`${id}: runs, nothing broken, FP16 and INT8 ok or not applicable`, async () => {
        const testCase = cases.find((candidate) => candidate.id === id);
        expect(testCase, `${id} in the corpus`).toBeDefined();
        const record = await runCase(testCase!);
        expect(record.status).toBe('run');
        expect(record.inspect?.class).toBe('ok');
        expect(['ok', 'not-applicable'], `FP16: ${record.fp16?.reason}`).toContain(record.fp16?.class);
        expect(['ok', 'not-applicable'], `INT8: ${record.int8?.reason}`).toContain(record.int8?.class);
      });
    }
  },
);
