/** The chart's alerts and dashboard rendered for kustomize: file name → YAML text. */
export function renderMonitoring(): Record<string, string>;
