import { execFileSync } from 'node:child_process';
import { onPath } from './k8s.js';

/**
 * Prometheus's promtool (Debian package `prometheus`; .ci/packages.sh installs it in CI), or
 * $PROMTOOL. Throws when absent, which fails every suite that imports this, as the helm and
 * kubectl checks do: the PromQL checks never silently disappear.
 */
function findPromtool(): string {
  const bin = process.env.PROMTOOL ?? 'promtool';
  if (!bin.includes('/') && !onPath(bin)) {
    throw new Error(
      'promtool not found: `apt-get install --no-install-recommends prometheus` (Debian), or set PROMTOOL to a ' +
        "Prometheus release's promtool. CI installs it (.ci/packages.sh).",
    );
  }
  return bin;
}

export const PROMTOOL = findPromtool();

/** Runs promtool; resolves to its output, or throws with it when promtool exits non-zero. */
export function promtool(args: string[], cwd?: string): string {
  try {
    return execFileSync(PROMTOOL, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}
