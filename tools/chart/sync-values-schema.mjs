#!/usr/bin/env node
// `npm run chart:sync`: regenerates the `gateway.config` / `agent.config` properties of
// helm/neonpro/values.schema.json from the services' env schemas (run `npm run build` first).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentConfigSchema, envJsonSchemaProperties, gatewayConfigSchema } from '../../dist/libs/config/src/index.js';
import { CHART_EXCLUDE } from './chart-env.mjs';

const file = join(import.meta.dirname, '../../helm/neonpro/values.schema.json');
const doc = JSON.parse(readFileSync(file, 'utf8'));
doc.properties.gateway.properties.config.properties = envJsonSchemaProperties(
  gatewayConfigSchema,
  CHART_EXCLUDE.gateway,
);
doc.properties.agent.properties.config.properties = envJsonSchemaProperties(agentConfigSchema, CHART_EXCLUDE.agent);
writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
console.log(`updated ${file}`);
