import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './k8s.js';
import { must } from '@neonpro/testing';

export const CHART = join(ROOT, 'helm', 'neonpro');
/** The nats dependency as vendored in charts/ (packaged from nats-io/k8s; see the chart README). */
export const NATS_ARCHIVE = 'nats-2.14.2.tgz';

export function chartFile(...path: string[]): string {
  return readFileSync(join(CHART, ...path), 'utf8');
}

export function templateFiles(dir = join(CHART, 'templates')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? templateFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Template text with Go-template comments removed (they hold the pending mappings). */
export function withoutComments(text: string): string {
  return text.replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '');
}

/**
 * Env var names a service's chart templates set literally: ConfigMap data keys and `- name:`
 * entries of the Deployment. Values-driven keys (`config`, `extraEnv`) are read from values.
 * Static: Helm cannot run here, so this reads the template text, not a render.
 */
export function templateEnvNames(dir: 'gateway' | 'ai-agent'): string[] {
  const cm = withoutComments(chartFile('templates', dir, 'configmap.yaml'));
  const data = cm.slice(cm.indexOf('\ndata:'));
  const keys = [...data.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => must(m[1], 'a captured name'));
  const deploy = withoutComments(chartFile('templates', dir, 'deployment.yaml'));
  const names = [...deploy.matchAll(/^\s*- name: ([A-Z][A-Z0-9_]*)\s*$/gm)].map((m) => must(m[1], 'a captured name'));
  return [...keys, ...names];
}
