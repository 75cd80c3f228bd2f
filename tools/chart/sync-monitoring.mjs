#!/usr/bin/env node
// Part of `npm run chart:sync`: the chart's PrometheusRule and dashboard templates are the single
// home of the alerts and the dashboard; this renders them (release `neonpro`, namespace `neonpro`)
// into k8s/components/prometheus for kustomize users. test/deploy checks the copies are current.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderMonitoring } from './monitoring.mjs';

const dir = join(import.meta.dirname, '../../k8s/components/prometheus');
for (const [file, text] of Object.entries(renderMonitoring())) {
  writeFileSync(join(dir, file), text);
  console.log(`updated ${join(dir, file)}`);
}
