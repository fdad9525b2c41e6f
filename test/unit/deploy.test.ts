/**
 * deploy/ validated offline: every kustomization renders (test/helpers/kustomize.ts, and `kubectl
 * kustomize` where kubectl with kustomize v4+ is installed, which must render the same objects);
 * every rendered object passes its schema (kubernetes-models for core kinds, @kubernetes-models/keda
 * and /prometheus-operator, the KServe CRDs' schemas in deploy/validation/kserve/); yamllint is
 * clean where installed; and the invariants that make the manifests work hold: probes hit real
 * endpoints of the server on the ports they name, every serve/batch argument parses, ports agree
 * across Deployment, Service and PodMonitor, the scalers read metrics the server exports, the drain
 * fits in the grace period, and the batch Job's shards cover every record exactly once.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job } from 'kubernetes-models/batch/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { packageRoot } from '../../lib/addon/loader.js';
import { parseCommandLine } from '../../lib/cli/args.js';
import { batchCommand, parseShard } from '../../lib/cli/commands/batch.js';
import { serveCommand, serveOptionsFrom } from '../../lib/cli/commands/serve.js';
import type { Command } from '../../lib/cli/command.js';
import { InferenceServer } from '../../lib/serve/server.js';
import { silentLogger } from '../../lib/serve/logger.js';
import { renderKustomization, type K8sObject } from '../helpers/kustomize.js';
import { fixtureRepository } from '../helpers/serve.js';

const deploy = join(packageRoot, 'deploy');
const KUSTOMIZATIONS = ['base', 'overlays/gpu', 'overlays/cpu', 'kserve', 'batch'];

/** kubectl, when installed with kustomize v4 or newer (Debian's kubernetes-client 1.20 embeds v2, which predates `patches:`). */
function kubectl(): string | null {
  const version = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  const kustomize = /Kustomize Version: v(\d+)/.exec(version.stdout ?? '');
  return version.status === 0 && kustomize && Number(kustomize[1]) >= 4 ? 'kubectl' : null;
}

const key = (object: K8sObject) => `${object.kind}/${object.metadata.name}`;
const byKey = (objects: K8sObject[]) => Object.fromEntries(objects.map((object) => [key(object), object]));

type Container = {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; subPathExpr?: string }[];
} & Record<string, unknown>;
type Probe = { httpGet: { path: string; port: string | number } };

function kserveValidator(file: string) {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  for (const keyword of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-embedded-resource',
    'x-kubernetes-validations',
    'x-group-version-kind',
  ])
    ajv.addKeyword(keyword);
  return ajv.compile(JSON.parse(readFileSync(join(deploy, 'validation/kserve', file), 'utf8')));
}

const validators: Record<string, (object: K8sObject) => void> = {
  'apps/v1/Deployment': (object) => new Deployment(object as never).validate(),
  'v1/Service': (object) => new Service(object as never).validate(),
  'v1/PersistentVolumeClaim': (object) => new PersistentVolumeClaim(object as never).validate(),
  'policy/v1/PodDisruptionBudget': (object) => new PodDisruptionBudget(object as never).validate(),
  'batch/v1/Job': (object) => new Job(object as never).validate(),
  'keda.sh/v1alpha1/ScaledObject': (object) => new ScaledObject(object as never).validate(),
  'monitoring.coreos.com/v1/PodMonitor': (object) => new PodMonitor(object as never).validate(),
};
const kserve: Record<string, ReturnType<typeof kserveValidator>> = {
  'serving.kserve.io/v1beta1/InferenceService': kserveValidator('inferenceservices.v1beta1.schema.json'),
  'serving.kserve.io/v1alpha1/ServingRuntime': kserveValidator('servingruntimes.v1alpha1.schema.json'),
};

function validate(object: K8sObject): void {
  const type = `${object.apiVersion}/${object.kind}`;
  const check = kserve[type];
  if (check) {
    if (!check(object)) throw new Error(`${key(object)}: ${JSON.stringify(check.errors?.slice(0, 3))}`);
    return;
  }
  const model = validators[type];
  if (!model) throw new Error(`${key(object)}: no schema for ${type} (add one to test/unit/deploy.test.ts)`);
  model(object);
}

/** Parses `args` as the CLI would (the first is the command). */
function parseArgs(command: Command, args: string[]) {
  return parseCommandLine(command as Command, args.slice(1));
}

describe('deploy/ (rendered and validated offline)', () => {
  const rendered = Object.fromEntries(KUSTOMIZATIONS.map((folder) => [folder, renderKustomization(join(deploy, folder))]));

  it.each(KUSTOMIZATIONS)('%s renders, and kubectl kustomize (where installed) renders the same objects', (folder) => {
    expect(rendered[folder]!.length).toBeGreaterThan(0);
    const tool = kubectl();
    if (!tool) return;
    const fromKubectl = readYamlDocumentsText(execFileSync(tool, ['kustomize', join(deploy, folder)], { encoding: 'utf8' }));
    expect(byKey(rendered[folder]!)).toEqual(byKey(fromKubectl));
  });

  it('every rendered object passes its schema: kubernetes-models, KEDA, Prometheus Operator, KServe CRDs', () => {
    for (const objects of Object.values(rendered))
      for (const object of objects) expect(() => validate(object), key(object)).not.toThrow();
  });

  it('BAD CALL - the schemas catch what a typo would break', () => {
    const deployment = structuredClone(rendered.base!.find((object) => object.kind === 'Deployment')!) as K8sObject & {
      spec: { replicas: unknown };
    };
    deployment.spec.replicas = 'two';
    expect(() => validate(deployment)).toThrow(/replicas/);
    const isvc = structuredClone(rendered.kserve!.find((object) => object.kind === 'InferenceService')!) as K8sObject & {
      spec: { predictor: Record<string, unknown> };
    };
    isvc.spec.predictor.minReplica = 1;
    expect(() => validate(isvc)).toThrow(/additionalProperty.*minReplica/);
  });

  // CI installs yamllint (Debian package) and sets TENSORRT_NODE_REQUIRE_YAMLLINT=1, so a missing
  // linter fails there instead of skipping.
  const yamllintMissing =
    spawnSync('yamllint', ['--version']).error !== undefined && process.env.TENSORRT_NODE_REQUIRE_YAMLLINT !== '1';
  it.skipIf(yamllintMissing)('yamllint is clean (Debian package yamllint)', () => {
    const lint = spawnSync('yamllint', ['-c', join(deploy, '.yamllint'), '-f', 'parsable', deploy], { encoding: 'utf8' });
    expect(lint.error).toBeUndefined();
    expect(lint.stdout).toBe('');
    expect(lint.status).toBe(0);
  });
});

function readYamlDocumentsText(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as K8sObject)
    .filter(Boolean);
}

describe('deploy/ invariants', () => {
  let server: InferenceServer;

  beforeAll(async () => {
    server = await InferenceServer.start({
      repository: fixtureRepository(),
      only: ['mlp'],
      port: 0,
      metricsPort: 0,
      defaults: { backend: 'cpu' },
      logger: silentLogger,
    });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  /** The listener a serve flag opens, on the test server. */
  const urlFor = (flag: string) => (flag === 'port' ? server.urls.http! : server.urls.metrics!.replace(/\/metrics$/, ''));

  /** Checks a server container: its args parse, each probe's port is the right listener, and the path answers 200 there. */
  async function checkServerContainer(
    container: Container,
    probes: Record<string, Probe | undefined>,
  ): Promise<{ ports: Record<string, number>; options: ReturnType<typeof serveOptionsFrom> }> {
    expect(container.args![0]).toBe('serve');
    const { values, positionals } = parseArgs(serveCommand as never, container.args!);
    const options = serveOptionsFrom(values as never, positionals);
    expect(options.host).toBe('0.0.0.0');
    const flagOf = (port: number) =>
      port === options.port
        ? 'port'
        : port === options.metricsPort
          ? 'metrics-port'
          : port === options.grpcPort
            ? 'grpc-port'
            : null;
    const named = Object.fromEntries(
      (container.ports ?? []).filter((port) => port.name).map((port) => [port.name!, port.containerPort]),
    );
    for (const port of container.ports ?? [])
      expect(flagOf(port.containerPort), `containerPort ${port.containerPort} is a port the server listens on`).not.toBeNull();
    for (const [kind, probe] of Object.entries(probes)) {
      if (!probe) continue;
      const number = typeof probe.httpGet.port === 'number' ? probe.httpGet.port : named[probe.httpGet.port];
      expect(number, `${kind} probe port`).toBeDefined();
      const flag = flagOf(number!);
      expect(flag === 'port' || flag === 'metrics-port', `${kind} probe on an HTTP listener`).toBe(true);
      const response = await fetch(`${urlFor(flag === 'port' ? 'port' : 'metrics-port')}${probe.httpGet.path}`);
      expect(response.status, `${kind} probe GET ${probe.httpGet.path}`).toBe(200);
    }
    return { ports: named, options };
  }

  it('the Deployment: probes on real endpoints, args that parse, ports that agree with Service and PodMonitor, a drain within the grace period', async () => {
    for (const folder of ['base', 'overlays/gpu', 'overlays/cpu']) {
      const objects = byKey(renderKustomization(join(deploy, folder)));
      const deployment = objects['Deployment/tensorrt-node'] as unknown as {
        spec: {
          selector: { matchLabels: Record<string, string> };
          template: {
            metadata: { labels: Record<string, string> };
            spec: Record<string, unknown> & {
              containers: Container[];
              volumes: { name: string }[];
              terminationGracePeriodSeconds: number;
              securityContext: { runAsNonRoot: boolean };
            };
          };
        };
      };
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0]!;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      const startup = container.startupProbe as Probe & { periodSeconds: number; failureThreshold: number };
      const { ports, options } = await checkServerContainer(container, {
        startup,
        readiness: container.readinessProbe as Probe,
        liveness: container.livenessProbe as Probe,
      });
      // Long enough for an engine build.
      expect(startup.periodSeconds * startup.failureThreshold).toBeGreaterThanOrEqual(300);
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
        (options.drainDelayMs ?? 0) + (options.drainTimeoutMs ?? 30_000),
      );
      // Volumes and the engine cache's per-GPU, per-TensorRT folder.
      const env = Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.value]));
      for (const mount of container.volumeMounts ?? []) {
        expect(pod.volumes.map((volume) => volume.name)).toContain(mount.name);
        for (const [, variable] of (mount.subPathExpr ?? '').matchAll(/\$\((\w+)\)/g))
          expect(env[variable!], `${variable} for subPathExpr`).toBeDefined();
      }
      if (folder === 'overlays/gpu') {
        expect(pod.nodeSelector).toEqual({ 'nvidia.com/gpu.product': env.GPU_PRODUCT });
        expect(container.image).toMatch(new RegExp(`-trt${env.TENSORRT_VERSION!.replace('.', '\\.')}$`));
        expect((container.resources as { limits: Record<string, unknown> }).limits['nvidia.com/gpu']).toBe(1);
      }
      if (folder === 'overlays/cpu') {
        expect(options.defaults?.backend).toBe('cpu');
        expect((container.resources as { limits: Record<string, unknown> }).limits['nvidia.com/gpu']).toBeUndefined();
        expect(pod.tolerations).toBeUndefined();
      }
      // The Service selects these pods and targets their named ports; the PodMonitor scrapes the metrics port.
      const service = objects['Service/tensorrt-node'] as unknown as {
        spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
      };
      expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
      for (const port of service.spec.ports) expect(ports[port.targetPort], `Service port ${port.name}`).toBe(port.port);
      const monitor = objects['PodMonitor/tensorrt-node'] as unknown as {
        spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string; path: string }[] };
      };
      expect(deployment.spec.template.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
      expect(monitor.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
      expect(ports.metrics).toBe(options.metricsPort);
      const pdb = objects['PodDisruptionBudget/tensorrt-node'] as unknown as {
        spec: { selector: { matchLabels: Record<string, string> } };
      };
      expect(deployment.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
      // The scaler targets this Deployment and reads metrics the server exports.
      checkScaler(objects['ScaledObject/tensorrt-node']!, 'tensorrt-node', server.metrics());
    }
  });

  it('the KServe variant: runtime and service agree, probes on real endpoints, KEDA scales the predictor Deployment KServe creates', async () => {
    const objects = byKey(rendered('kserve'));
    const runtime = objects['ServingRuntime/tensorrt-node'] as unknown as {
      spec: { supportedModelFormats: { name: string }[]; protocolVersions: string[]; containers: Container[] };
    };
    const isvc = objects['InferenceService/tensorrt-node'] as unknown as {
      metadata: { annotations: Record<string, string> };
      spec: { predictor: { model: { runtime: string; modelFormat: { name: string }; protocolVersion: string } } };
    };
    expect(isvc.spec.predictor.model.runtime).toBe('tensorrt-node');
    expect(runtime.spec.supportedModelFormats.map((format) => format.name)).toContain(isvc.spec.predictor.model.modelFormat.name);
    expect(runtime.spec.protocolVersions).toContain(isvc.spec.predictor.model.protocolVersion);
    expect(isvc.metadata.annotations).toMatchObject({
      'serving.kserve.io/deploymentMode': 'RawDeployment',
      'serving.kserve.io/autoscalerClass': 'external',
    });
    const container = runtime.spec.containers[0]!;
    const { options } = await checkServerContainer(container, {
      readiness: container.readinessProbe as Probe,
      liveness: container.livenessProbe as Probe,
    });
    // KServe's conventions: HTTP on 8080, gRPC on the port named h2c.
    expect(options.port).toBe(8080);
    expect(container.ports).toEqual([expect.objectContaining({ name: 'h2c', containerPort: options.grpcPort })]);
    expect(container.args).toContain('/mnt/models');
    checkScaler(objects['ScaledObject/tensorrt-node-predictor']!, 'tensorrt-node-predictor', server.metrics());
  });

  it('the batch Indexed Job: one shard per completion index, every record once, each pod its own output and checkpoint', () => {
    const [job] = rendered('batch') as unknown as {
      spec: {
        completionMode: string;
        completions: number;
        parallelism: number;
        template: { spec: { restartPolicy: string; containers: Container[] } };
      };
    }[];
    expect(job!.spec.completionMode).toBe('Indexed');
    expect(job!.spec.parallelism).toBeLessThanOrEqual(job!.spec.completions);
    const container = job!.spec.template.spec.containers[0]!;
    expect(container.env).toContainEqual({
      name: 'JOB_COMPLETION_INDEX',
      valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
    });
    const outputs = new Set<string>();
    const covered: number[] = [];
    for (let index = 0; index < job!.spec.completions; index++) {
      // Kubernetes expands $(JOB_COMPLETION_INDEX) from the env declared above.
      const args = container.args!.map((arg) => arg.replaceAll('$(JOB_COMPLETION_INDEX)', String(index)));
      expect(args[0]).toBe('batch');
      const { values } = parseArgs(batchCommand as never, args);
      const shard = parseShard((values as { shard?: string }).shard);
      expect(shard).toEqual({ index, count: job!.spec.completions });
      outputs.add(String((values as { output?: string }).output));
      for (let record = 0; record < 1000; record++) if (record % shard.count === shard.index) covered.push(record);
    }
    expect(outputs.size).toBe(job!.spec.completions);
    expect(covered.sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, record) => record));
  });

  it('the Dockerfile: multi-stage, TensorRT runtime libraries on a CUDA runtime base, non-root, node under tini', () => {
    const dockerfile = readFileSync(join(deploy, 'Dockerfile'), 'utf8');
    const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gm)].map((match) => ({
      image: match[1],
      name: match[2],
    }));
    expect(stages.map((stage) => stage.name)).toEqual(['node', 'build', 'runtime']);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/libnvinfer10=\$\{TENSORRT_APT_VERSION\}/);
    expect(dockerfile).toMatch(/^ARG CUDA_RUNTIME_IMAGE=nvcr\.io\/nvidia\/cuda:[\d.]+-runtime-/m);
    expect(runtime).toMatch(/^USER 10001:10001$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", "\/app\/dist\/cli\/index\.js"\]$/m);
    expect(runtime).not.toMatch(/\b(npx|npm start|tsx)\b/);
    expect(runtime).toMatch(/^EXPOSE 8000 8001 8002$/m);
  });
});

function rendered(folder: string): K8sObject[] {
  return renderKustomization(join(deploy, folder));
}

/** A ScaledObject's target is `deployment` and its queries name only series the server exports. */
function checkScaler(object: K8sObject, deployment: string, metricsText: string): void {
  const scaler = object as unknown as {
    spec: {
      scaleTargetRef: { kind: string; name: string };
      triggers: { type: string; metadata: { query: string; threshold: string } }[];
    };
  };
  expect(scaler.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment });
  for (const trigger of scaler.spec.triggers) {
    expect(trigger.type).toBe('prometheus');
    expect(Number(trigger.metadata.threshold)).toBeGreaterThan(0);
    const series = [...trigger.metadata.query.matchAll(/\b(nv_[a-z_]+|tensorrt_node_[a-z_]+)\{/g)].map((match) => match[1]!);
    expect(series.length).toBeGreaterThan(0);
    for (const name of series) expect(metricsText, `${name} is exported`).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
  }
}
