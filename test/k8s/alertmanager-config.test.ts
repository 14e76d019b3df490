/**
 * The README's AlertmanagerConfig (k8s/examples/alertmanager-config.yaml): valid for the upstream
 * CRD, and picked up both by the bundled Alertmanager and by kube-prometheus-stack's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IAlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1' with {
  'resolution-mode': 'import',
};
import { parse, parseAllDocuments } from 'yaml';
import { selects } from '../../k8s/label-selectors';
import { namespaceLabels } from '../../k8s/objects';
import type { K8sObject, KindMap } from '../../k8s/objects';
import { loadCrdValidators } from '../helpers/crd-schema';
import { find, HAVE_KPS_FIXTURE, HAVE_SHARED_SCHEMAS, KPS_FIXTURE, manifests, requireInCi, SHARED_SCHEMAS } from '../helpers/manifests';

const ROOT = join(__dirname, '..', '..');
const text = readFileSync(join(ROOT, 'k8s', 'examples', 'alertmanager-config.yaml'), 'utf8');
// Cast, not checked: the CRD test below validates the example against the upstream schema.
const example = parse(text) as IAlertmanagerConfig;
requireInCi('the AlertmanagerConfig checks', HAVE_SHARED_SCHEMAS && HAVE_KPS_FIXTURE, '../shared (schemas and fixtures) is missing');

/** Whether Alertmanager `am` (namespace `amNs`) picks `config` up, as the operator selects. */
function picksUp(am: KindMap['Alertmanager'], amNs: string, config: IAlertmanagerConfig, objects: readonly K8sObject[]): boolean {
  const nsSelector = am.spec?.alertmanagerConfigNamespaceSelector;
  const configNs = config.metadata!.namespace!;
  const nsOk =
    nsSelector === undefined || nsSelector === null ? configNs === amNs : selects(nsSelector, namespaceLabels(objects, configNs));
  return nsOk && selects(am.spec?.alertmanagerConfigSelector, config.metadata?.labels ?? {});
}

describe('the AlertmanagerConfig example', () => {
  it('is the one the README shows', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`\`\`\`yaml\n${text}\`\`\``);
  });

  (HAVE_SHARED_SCHEMAS ? it : it.skip)('conforms to the upstream AlertmanagerConfig CRD (unknown fields rejected)', () => {
    const validators = loadCrdValidators(
      join(SHARED_SCHEMAS, 'prometheus-operator-v0.93.0', 'monitoring.coreos.com_alertmanagerconfigs.yaml'),
    );
    const validate = validators.get('monitoring.coreos.com/v1alpha1 AlertmanagerConfig')!;
    expect(validate(example)).toBe(true);
    expect(validate.errors ?? []).toEqual([]);
    expect(validate({ ...example, spec: { ...example.spec, route: { ...example.spec.route, reciever: 'typo' } } })).toBe(false);
  });

  it('is picked up by the bundled Alertmanager, in the app namespace only', () => {
    const objects = manifests();
    const am = find(objects, 'Alertmanager');
    expect(picksUp(am, 'rest-api', example, objects)).toBe(true);
    expect(picksUp(am, 'rest-api', { ...example, metadata: { ...example.metadata, namespace: 'other' } }, objects)).toBe(false);
  });

  (HAVE_KPS_FIXTURE ? it : it.skip)("is picked up by kube-prometheus-stack's Alertmanager in monitoring", () => {
    const kps = parseAllDocuments(readFileSync(KPS_FIXTURE, 'utf8'))
      .map((d) => d.toJS() as K8sObject)
      .filter((o) => o?.kind !== undefined);
    const am = find(kps, 'Alertmanager');
    expect(picksUp(am, 'monitoring', example, kps)).toBe(true);
  });
});
