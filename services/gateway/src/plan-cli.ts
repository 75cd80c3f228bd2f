// `npm run plan -- show|set --clinic <slug|id|default> …`: the operators' way to change a clinic's
// plan (no HTTP route can). Also runs from the gateway image: node dist/services/gateway/src/plan-cli.js
import { exitOnConfigError } from '@neonpro/config';
import { runPlanCommand } from './plans/plan-command.js';

try {
  process.exitCode = await runPlanCommand(process.argv.slice(2), process.env, {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  });
} catch (err) {
  exitOnConfigError(err);
}
