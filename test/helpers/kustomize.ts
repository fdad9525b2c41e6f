/**
 * A small kustomize for deploy/: enough of `kubectl kustomize` to render the overlays there
 * (resources, directories of resources, strategic-merge patches by kind and name, image renames),
 * so that CI validates the rendered objects on machines without kubectl. Where kubectl is present,
 * test/unit/deploy.test.ts checks that both render the same objects, which keeps this subset
 * honest; a kustomization that uses a feature outside it fails loudly here.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string } & Record<string, unknown>;
};

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'patches', 'images']);

/**
 * Merge keys of the lists the patches here touch (Kubernetes' patchMergeKey): elements with the same
 * key merge, others are appended; every other list is replaced as a whole, as strategic merge does
 * for lists without a merge key (args, tolerations).
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
};

export function readYamlDocuments(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
      return document.toJS() as K8sObject | null;
    })
    .filter((object): object is K8sObject => object !== null);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function strategicMerge(target: unknown, patch: unknown, key = ''): unknown {
  if (isObject(target) && isObject(patch)) {
    const merged: Record<string, unknown> = { ...target };
    for (const [field, value] of Object.entries(patch)) {
      if (value === null) delete merged[field];
      else merged[field] = field in merged ? strategicMerge(merged[field], value, field) : value;
    }
    return merged;
  }
  const mergeKey = MERGE_KEYS[key];
  if (Array.isArray(target) && Array.isArray(patch) && mergeKey) {
    const merged = [...target] as Record<string, unknown>[];
    for (const element of patch as Record<string, unknown>[]) {
      const index = merged.findIndex((existing) => existing[mergeKey] === element[mergeKey]);
      if (element.$patch === 'delete') {
        if (index >= 0) merged.splice(index, 1);
      } else if (index >= 0) {
        merged[index] = strategicMerge(merged[index], element) as Record<string, unknown>;
      } else {
        merged.push(element);
      }
    }
    return merged;
  }
  return patch;
}

function renameImages(node: unknown, images: { name: string; newName?: string; newTag?: string }[]): void {
  if (Array.isArray(node)) return node.forEach((item) => renameImages(item, images));
  if (!isObject(node)) return;
  for (const [field, value] of Object.entries(node)) {
    if ((field === 'containers' || field === 'initContainers') && Array.isArray(value)) {
      for (const container of value as Record<string, unknown>[]) {
        const image = String(container.image);
        const [name, tag] = image.split(/:(?=[^/:]+$)/);
        const rule = images.find((entry) => entry.name === name);
        if (rule)
          container.image = `${rule.newName ?? name}${rule.newTag !== undefined ? `:${rule.newTag}` : tag !== undefined ? `:${tag}` : ''}`;
      }
    }
    renameImages(value, images);
  }
}

/** The objects `kubectl kustomize <folder>` renders, for the subset above. */
export function renderKustomization(folder: string): K8sObject[] {
  const [kustomization] = readYamlDocuments(join(folder, 'kustomization.yaml')) as unknown as Record<string, unknown>[];
  const unsupported = Object.keys(kustomization!).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0)
    throw new Error(
      `${folder}/kustomization.yaml uses ${unsupported.join(', ')}, which test/helpers/kustomize.ts does not render`,
    );
  let objects: K8sObject[] = [];
  for (const resource of (kustomization!.resources as string[] | undefined) ?? []) {
    const path = join(folder, resource);
    objects.push(...(statSync(path).isDirectory() ? renderKustomization(path) : readYamlDocuments(path)));
  }
  for (const { path } of (kustomization!.patches as { path: string }[] | undefined) ?? []) {
    for (const patch of readYamlDocuments(join(folder, path))) {
      const index = objects.findIndex((object) => object.kind === patch.kind && object.metadata.name === patch.metadata.name);
      if (index < 0) throw new Error(`${folder}/${path}: no ${patch.kind} ${patch.metadata.name} to patch`);
      objects[index] = strategicMerge(objects[index], patch) as K8sObject;
    }
  }
  objects = structuredClone(objects);
  renameImages(objects, (kustomization!.images as { name: string; newName?: string; newTag?: string }[] | undefined) ?? []);
  return objects;
}
