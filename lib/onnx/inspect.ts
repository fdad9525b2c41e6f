/**
 * inspect(): what a model is, without running it: inputs and outputs with dtypes and symbolic
 * shapes, opsets, IR version, producer, node counts and op histogram (subgraphs included),
 * parameters by dtype, external data, and what TensorRT will and will not accept where that is
 * knowable from the file alone.
 */
import { ArgumentTypeError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';
import { checkExternalData, externalDataReference } from './external-data.js';
import { defaultOpset } from './check.js';
import { forEachGraph, forEachStoredTensor, getAttribute, valueInfoElemType, valueInfoShape } from './graph.js';
import { expectOnnxModel, readModel, type OnnxModel } from './model.js';
import { DataLocation, DataType, dataTypeName, type ValueInfoProto } from './proto.js';
import { tensorByteLength, tensorElementCount, tensorValues } from './tensor-data.js';

/** One input or output as {@link inspect} describes it. */
export interface TensorSummary {
  name: string;
  /** Element type name (float32, float16, int64, string, ...). */
  dtype: string;
  /** Dims: numbers, symbolic names, or null when unknown; null for an unknown rank. */
  shape: (number | string | null)[] | null;
}

/** Something TensorRT will not accept (`error`), may handle badly (`warning`), or worth knowing (`note`). */
export interface TensorRTFinding {
  severity: 'error' | 'warning' | 'note';
  message: string;
}

/** What {@link inspect} found in a model: I/O, opsets, op histogram, parameters, external data, precision and TensorRT findings. */
export interface InspectReport {
  source: string;
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: { name: string; version: string };
  domain: string;
  modelVersion: number;
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  /** Nodes in all graphs, subgraphs included. */
  nodeCount: number;
  subgraphCount: number;
  /** Op type (domain-qualified outside the default domain) to count, all graphs. */
  opHistogram: Record<string, number>;
  parameters: {
    count: number;
    bytes: number;
    byDtype: Record<string, { count: number; bytes: number }>;
    /** Where stored tensors live: initializers, Constant nodes, other attributes. */
    tensors: { initializers: number; constants: number; attributes: number };
  };
  externalData: { files: { location: string; tensors: number; bytes: number }[]; tensors: number; bytes: number };
  precision: { float16Tensors: number; quantizeLinear: number; dequantizeLinear: number };
  tensorrt: TensorRTFinding[];
}

/**
 * Operators TensorRT's ONNX parser documents as unsupported (onnx-tensorrt docs/operators.md), kept
 * to those still unsupported in TensorRT 10.x: sequences, optionals, strings, integer-arithmetic
 * quantized operators, training losses and a few others.
 */
const TENSORRT_UNSUPPORTED_OPS = new Set([
  'BitShift',
  'BlackmanWindow',
  'ConcatFromSequence',
  'ConvInteger',
  'Det',
  'DynamicQuantizeLinear',
  'HammingWindow',
  'HannWindow',
  'MatMulInteger',
  'MaxRoiPool',
  'MelWeightMatrix',
  'Multinomial',
  'NegativeLogLikelihoodLoss',
  'Optional',
  'OptionalGetElement',
  'OptionalHasElement',
  'QLinearConv',
  'QLinearMatMul',
  'SequenceAt',
  'SequenceConstruct',
  'SequenceEmpty',
  'SequenceErase',
  'SequenceInsert',
  'SequenceLength',
  'SequenceMap',
  'SoftmaxCrossEntropyLoss',
  'SplitToSequence',
  'StringNormalizer',
  'StringConcat',
  'StringSplit',
  'RegexFullMatch',
  'TfIdfVectorizer',
  'Unique',
]);

/** Element types a TensorRT network can take as input or output (TensorRT 10+ includes int64). */
const TENSORRT_IO_TYPES = new Set<number>([
  DataType.FLOAT,
  DataType.FLOAT16,
  DataType.BFLOAT16,
  DataType.INT8,
  DataType.UINT8,
  DataType.INT32,
  DataType.INT64,
  DataType.BOOL,
  DataType.FLOAT8E4M3FN,
]);

function summarize(info: ValueInfoProto): TensorSummary {
  const elemType = valueInfoElemType(info);
  return {
    name: info.name,
    dtype: elemType === undefined ? (info.type?.value.case ?? 'unknown') : dataTypeName(elemType),
    shape: valueInfoShape(info) ?? null,
  };
}

function isDefault(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

/** Inspects a model (a path is read without loading its external data). */
export async function inspect(source: OnnxModel | string | Uint8Array): Promise<InspectReport> {
  const model =
    typeof source === 'string' || source instanceof Uint8Array
      ? await readModel(source, { loadExternalData: false })
      : expectOnnxModel(source, 'source');
  const proto = model.proto;
  const graph = proto.graph!;
  const initializerNames = new Set(graph.initializer.map((tensor) => tensor.name));
  const report: InspectReport = {
    source: model.source,
    irVersion: Number(proto.irVersion),
    opsets: proto.opsetImport.map((opset) => ({ domain: opset.domain || 'ai.onnx', version: Number(opset.version) })),
    producer: { name: proto.producerName, version: proto.producerVersion },
    domain: proto.domain,
    modelVersion: Number(proto.modelVersion),
    // IR < 4 lists initializers among the inputs; they are not inputs anyone feeds.
    inputs: graph.input.filter((input) => !initializerNames.has(input.name)).map(summarize),
    outputs: graph.output.map(summarize),
    nodeCount: 0,
    subgraphCount: 0,
    opHistogram: {},
    parameters: { count: 0, bytes: 0, byDtype: {}, tensors: { initializers: 0, constants: 0, attributes: 0 } },
    externalData: { files: [], tensors: 0, bytes: 0 },
    precision: { float16Tensors: 0, quantizeLinear: 0, dequantizeLinear: 0 },
    tensorrt: [],
  };

  const customDomains = new Set<string>();
  const unsupported = new Map<string, number>();
  forEachGraph(graph, (current, depth) => {
    if (depth > 0) report.subgraphCount++;
    for (const node of current.node) {
      report.nodeCount++;
      const key = isDefault(node.domain) ? node.opType : `${node.domain}.${node.opType}`;
      report.opHistogram[key] = (report.opHistogram[key] ?? 0) + 1;
      if (!isDefault(node.domain)) customDomains.add(node.domain);
      else if (TENSORRT_UNSUPPORTED_OPS.has(node.opType)) unsupported.set(node.opType, (unsupported.get(node.opType) ?? 0) + 1);
      if (node.opType === 'QuantizeLinear') report.precision.quantizeLinear++;
      if (node.opType === 'DequantizeLinear') report.precision.dequantizeLinear++;
    }
  });
  report.opHistogram = Object.fromEntries(
    Object.entries(report.opHistogram).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
  );

  const files = new Map<string, { tensors: number; bytes: number }>();
  forEachStoredTensor(proto, (tensor, home) => {
    const dtype = dataTypeName(tensor.dataType);
    const count = tensorElementCount(tensor);
    const bytes = tensorByteLength(tensor);
    report.parameters.count += count;
    report.parameters.bytes += bytes;
    const entry = (report.parameters.byDtype[dtype] ??= { count: 0, bytes: 0 });
    entry.count += count;
    entry.bytes += bytes;
    report.parameters.tensors[home === 'initializer' ? 'initializers' : home === 'constant' ? 'constants' : 'attributes']++;
    if (tensor.dataType === DataType.FLOAT16) report.precision.float16Tensors++;
    if (tensor.dataLocation === DataLocation.EXTERNAL) {
      const { location } = externalDataReference(tensor);
      const file = files.get(location) ?? { tensors: 0, bytes: 0 };
      file.tensors++;
      file.bytes += bytes;
      files.set(location, file);
      report.externalData.tensors++;
      report.externalData.bytes += bytes;
    }
  });
  report.externalData.files = [...files].map(([location, file]) => ({ location, ...file }));

  const findings = report.tensorrt;
  if (unsupported.size > 0) {
    findings.push({
      severity: 'error',
      message: `Operators TensorRT's ONNX parser does not support: ${[...unsupported].map(([op, count]) => `${op} (${count})`).join(', ')}`,
    });
  }
  if (customDomains.size > 0)
    findings.push({
      severity: 'warning',
      message: `Operators of custom domains ${[...customDomains].join(', ')} need TensorRT plugins`,
    });
  // One lookup table, not a search per tensor: a model may declare hundreds of thousands of inputs.
  const declared = new Map<string, ValueInfoProto>();
  for (const candidate of [...graph.input, ...graph.output])
    if (!declared.has(candidate.name)) declared.set(candidate.name, candidate);
  for (const tensor of [...report.inputs, ...report.outputs]) {
    const info = declared.get(tensor.name)!;
    const elemType = valueInfoElemType(info);
    if (elemType === undefined)
      findings.push({
        severity: 'error',
        message: `"${tensor.name}" is not a tensor (${tensor.dtype}); TensorRT networks take tensors only`,
      });
    else if (!TENSORRT_IO_TYPES.has(elemType))
      findings.push({
        severity: 'error',
        message: `"${tensor.name}" is ${tensor.dtype}; TensorRT has no ${tensor.dtype} inputs or outputs`,
      });
  }
  const dynamic = report.inputs.filter((input) => input.shape === null || input.shape.some((dim) => typeof dim !== 'number'));
  if (dynamic.length > 0) {
    findings.push({
      severity: 'note',
      message: `Dynamic input dims (${dynamic.map((input) => `${input.name} [${input.shape?.map((dim) => dim ?? '?').join(', ') ?? '?'}]`).join('; ')}): building needs an optimization profile with min/opt/max shapes`,
    });
  }
  // Q/DQ: TensorRT wants symmetric int8 (zero point 0) with scales known at build time.
  const constants = new Map(graph.initializer.map((tensor) => [tensor.name, tensor]));
  for (const node of graph.node)
    if (node.opType === 'Constant' && getAttribute(node, 'value')?.t)
      constants.set(node.output[0]!, getAttribute(node, 'value')!.t!);
  let asymmetric = 0;
  let unsignedQdq = 0;
  for (const node of graph.node) {
    if (node.opType !== 'QuantizeLinear' && node.opType !== 'DequantizeLinear') continue;
    const zeroPoint = node.input[2] ? constants.get(node.input[2]) : undefined;
    if (zeroPoint?.dataType === DataType.UINT8) unsignedQdq++;
    if (zeroPoint && zeroPoint.dataLocation !== DataLocation.EXTERNAL) {
      const values = tensorValues(zeroPoint);
      if (Array.from(values as ArrayLike<number | bigint>).some((value) => Number(value) !== 0)) asymmetric++;
    }
  }
  if (unsignedQdq > 0)
    findings.push({
      severity: 'error',
      message: `${unsignedQdq} Q/DQ nodes use uint8; TensorRT's explicit quantization needs int8 (or fp8)`,
    });
  if (asymmetric > 0)
    findings.push({
      severity: 'error',
      message: `${asymmetric} Q/DQ nodes have non-zero zero points; TensorRT supports symmetric quantization only`,
    });
  const opset = defaultOpset(proto);
  if (report.precision.dequantizeLinear > 0 && opset !== undefined && opset < 13) {
    findings.push({ severity: 'warning', message: `Q/DQ at opset ${opset}: per-channel scales need opset 13` });
  }
  if (report.parameters.byDtype.float64)
    findings.push({ severity: 'note', message: 'float64 weights: TensorRT casts them to float32' });
  if (report.externalData.tensors > 0 && model.baseDir !== null) {
    try {
      await checkExternalData(proto, model.baseDir, model.source);
    } catch (error) {
      findings.push({ severity: 'error', message: (error as Error).message });
    }
  }
  return report;
}

function formatShape(shape: TensorSummary['shape']): string {
  return shape === null ? '[?]' : `[${shape.map((dim) => dim ?? '?').join(', ')}]`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** The human form of a report (what `tensorrt-node inspect` prints without --json). */
export function formatInspectReport(report: InspectReport): string {
  if (
    typeof report !== 'object' ||
    report === null ||
    !Array.isArray((report as Partial<InspectReport>).inputs) ||
    !Array.isArray((report as Partial<InspectReport>).outputs)
  ) {
    throw new ArgumentTypeError(`Expected an InspectReport from inspect() for report but received ${describeValue(report)}`);
  }
  const lines: string[] = [];
  lines.push(`${report.source}`);
  lines.push(
    `  IR ${report.irVersion}, opsets ${report.opsets.map((opset) => `${opset.domain} ${opset.version}`).join(', ')}, producer ${report.producer.name || '?'} ${report.producer.version}`.trimEnd(),
  );
  lines.push('', 'Inputs');
  for (const input of report.inputs) lines.push(`  ${input.name}: ${input.dtype} ${formatShape(input.shape)}`);
  lines.push('', 'Outputs');
  for (const output of report.outputs) lines.push(`  ${output.name}: ${output.dtype} ${formatShape(output.shape)}`);
  lines.push('', `Nodes: ${report.nodeCount}${report.subgraphCount ? ` (in ${report.subgraphCount + 1} graphs)` : ''}`);
  const histogram = Object.entries(report.opHistogram);
  for (let index = 0; index < histogram.length; index += 4) {
    lines.push(
      `  ${histogram
        .slice(index, index + 4)
        .map(([op, count]) => `${op} ${count}`.padEnd(26))
        .join('')
        .trimEnd()}`,
    );
  }
  const { parameters } = report;
  lines.push(
    '',
    `Parameters: ${parameters.count.toLocaleString('en-US')} (${formatBytes(parameters.bytes)}) in ${parameters.tensors.initializers} initializers, ${parameters.tensors.constants} Constant nodes${parameters.tensors.attributes ? `, ${parameters.tensors.attributes} attributes` : ''}`,
  );
  for (const [dtype, entry] of Object.entries(parameters.byDtype))
    lines.push(`  ${dtype}: ${entry.count.toLocaleString('en-US')} (${formatBytes(entry.bytes)})`);
  if (report.externalData.tensors > 0) {
    lines.push('', `External data: ${report.externalData.tensors} tensors, ${formatBytes(report.externalData.bytes)}`);
    for (const file of report.externalData.files)
      lines.push(`  ${file.location}: ${file.tensors} tensors, ${formatBytes(file.bytes)}`);
  }
  if (report.precision.float16Tensors || report.precision.quantizeLinear || report.precision.dequantizeLinear) {
    lines.push(
      '',
      `Precision: ${report.precision.float16Tensors} float16 tensors, ${report.precision.quantizeLinear} QuantizeLinear, ${report.precision.dequantizeLinear} DequantizeLinear`,
    );
  }
  lines.push('', 'TensorRT');
  if (report.tensorrt.length === 0) lines.push('  ok    nothing in the file stands in the way of a TensorRT build');
  for (const finding of report.tensorrt)
    lines.push(
      `  ${finding.severity === 'error' ? 'no   ' : finding.severity === 'warning' ? 'warn ' : 'note '} ${finding.message}`,
    );
  return `${lines.join('\n')}\n`;
}
