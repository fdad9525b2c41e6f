// The layers of lib/ and what each may import: the one declaration that `npm run lint` enforces.
// ARCHITECTURE.md (next to this file) draws them; keep the two in step. Lower layers never import
// higher ones, and nothing imports in a circle. A folder may always import its own files.
// prettier-ignore
const layers = {
  core: [],
  addon: ['core'],
  cuda: ['core', 'addon'],
  tensorrt: ['core', 'addon', 'cuda'],
  onnx: ['core'],
  protocol: ['core'],
  cache: ['core'],
  backends: ['core', 'addon', 'cuda', 'tensorrt', 'onnx'],
  precision: ['core', 'onnx', 'backends'],
  builder: ['core', 'addon', 'tensorrt', 'onnx', 'precision', 'cache'],
  session: ['core', 'addon', 'cuda', 'tensorrt', 'onnx', 'cache', 'backends', 'precision', 'builder'],
  bench: ['core', 'addon', 'cuda', 'tensorrt', 'onnx', 'cache', 'backends', 'precision', 'builder', 'session', 'protocol'],
  batch: ['core', 'addon', 'onnx', 'cache', 'backends', 'precision', 'session'],
  serve: ['core', 'addon', 'cuda', 'tensorrt', 'onnx', 'cache', 'backends', 'precision', 'builder', 'session', 'protocol'],
  cli: ['core', 'addon', 'cuda', 'tensorrt', 'onnx', 'cache', 'backends', 'precision', 'builder', 'session', 'bench', 'batch', 'protocol', 'serve'],
};

const folders = Object.keys(layers);
const layerRules = folders.map((layer) => {
  const allowed = [layer, ...layers[layer]];
  const forbidden = folders.filter((other) => !allowed.includes(other));
  return {
    name: `layer-${layer}`,
    comment: `lib/${layer}/ may import only ${allowed.map((name) => `lib/${name}/`).join(', ')} (see ARCHITECTURE.md)`,
    severity: 'error',
    from: { path: `^lib/${layer}/` },
    to: { path: `^lib/(${forbidden.join('|') || '$^'})/` },
  };
});

// Exported for the test that reads the layer table (test/unit/architecture.test.ts).
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'Modules of lib/ must not import each other in a circle (type-only imports included)',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'only-index-imports-index',
      comment: 'lib/index.ts is the public entry: nothing inside lib/ imports it',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^lib/index\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|build|node_modules)/' },
  },
};
