import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type K8sObject, ROOT, readYaml, renderOverlay } from './support/k8s.js';
import { must } from '@neonpro/testing';

interface Skaffold {
  apiVersion: string;
  kind: string;
  build: { artifacts: { image: string; context: string; docker: { dockerfile: string; target: string } }[] };
  deploy: {
    helm: {
      releases: { name: string; chartPath: string; valuesFiles: string[]; setValueTemplates: Record<string, string> }[];
    };
  };
  portForward: { resourceType: string; resourceName: string; port: number; localPort: number }[];
  profiles: {
    name: string;
    patches?: { op: string; path: string; value?: unknown }[];
    manifests?: { kustomize: { paths: string[] } };
  }[];
}

const sk = readYaml<Skaffold>('skaffold.yaml');

describe('skaffold.yaml', () => {
  it('is a skaffold v4 config building both images from the repo root Dockerfile, one target each', () => {
    expect(sk.apiVersion).toMatch(/^skaffold\/v4/);
    expect(sk.kind).toBe('Config');
    expect(sk.build.artifacts.map((a) => a.image).sort()).toEqual(['neonpro/ai-agent', 'neonpro/gateway']);
    for (const a of sk.build.artifacts) {
      expect(a.context).toBe('.');
      expect(existsSync(join(ROOT, a.docker.dockerfile))).toBe(true);
      expect(`neonpro/${a.docker.target}`).toBe(a.image);
    }
  });

  it('deploys the helm chart by default, wiring the built images into existing values keys', () => {
    const release = must(sk.deploy.helm.releases[0], 'the helm release');
    expect(existsSync(join(ROOT, release.chartPath, 'Chart.yaml'))).toBe(true);
    for (const f of release.valuesFiles) {
      expect(existsSync(join(ROOT, f))).toBe(true);
    }
    const values = readYaml<Record<string, Record<string, Record<string, unknown>>>>(release.chartPath, 'values.yaml');
    for (const [key, template] of Object.entries(release.setValueTemplates)) {
      const [svc = '', image = '', field = ''] = key.split('.');
      expect(values[svc]?.[image]).toHaveProperty(field);
      const artifact = sk.build.artifacts.find((a) => a.image === `neonpro/${svc === 'agent' ? 'ai-agent' : svc}`)!;
      // Skaffold exposes IMAGE_REPO_<image with / and - as _>.
      expect(template).toContain(artifact.image.replace(/[/-]/g, '_'));
    }
  });

  it('port-forwards the gateway Service on 3000, the name both the chart and kustomize give it', () => {
    expect(sk.portForward).toEqual([expect.objectContaining({ resourceType: 'service', port: 3000, localPort: 3000 })]);
    const name = must(sk.portForward[0], 'a port forward').resourceName;
    // Release `neonpro` contains the chart name, so the chart's fullname is the release name.
    expect(name).toBe(`${must(sk.deploy.helm.releases[0], 'sk.deploy.helm.releases[0]').name}-gateway`);
    const objects: K8sObject[] = renderOverlay('dev');
    expect(objects.some((o) => o.kind === 'Service' && o.metadata.name === name)).toBe(true);
  });

  it('has dev and prod profiles and kustomize profiles pointing at existing overlays', () => {
    const names = sk.profiles.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['dev', 'prod', 'kustomize', 'kustomize-prod']));
    for (const p of sk.profiles) {
      for (const path of p.manifests?.kustomize.paths ?? []) {
        expect(existsSync(join(ROOT, path, 'kustomization.yaml'))).toBe(true);
      }
      for (const patch of p.patches ?? []) {
        if (Array.isArray(patch.value)) {
          for (const f of patch.value as string[]) {
            expect(existsSync(join(ROOT, f))).toBe(true);
          }
        }
      }
    }
    const kustomize = sk.profiles.find((p) => p.name === 'kustomize')!;
    expect(kustomize.patches).toContainEqual({ op: 'remove', path: '/deploy/helm' });
  });
});
