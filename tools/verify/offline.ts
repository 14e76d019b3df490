/** Reads every Kubernetes object from YAML or JSON manifests. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from '../../k8s/checks';

/** Reads `paths`: manifest files, or directories walked for .yaml, .yml and .json files. */
export function readManifests(paths: string | readonly string[]): { objects: K8sObject[]; files: string[] } {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d).sort()) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ya?ml|json)$/.test(entry)) files.push(path);
    }
  };
  for (const path of typeof paths === 'string' ? [paths] : paths) {
    if (statSync(path).isDirectory()) walk(path);
    else files.push(path);
  }
  const objects: K8sObject[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      const value = doc.toJS() as K8sObject | null;
      if (value === null || typeof value !== 'object') continue;
      const items = value.kind === 'List' ? ((value as { items?: K8sObject[] }).items ?? []) : [value];
      // Other YAML (prometheus.yml, alert_rules.yml) has no apiVersion and kind.
      objects.push(...items.filter((o) => typeof o.apiVersion === 'string' && typeof o.kind === 'string'));
    }
  }
  return { objects, files };
}
