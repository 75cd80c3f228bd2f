// Nest 12 ships pure ESM, so Jest runs in native ESM mode (--experimental-vm-modules, set by
// tools/test/run.mjs) and @swc/jest emits ES modules with decorator metadata for Nest DI.
//
// Five projects, one per kind of test (see CONTRIBUTING.md). tools/test/run.mjs reads NEEDS to
// build and check backing services only when a project that needs them runs.
const swc = {
  swcrc: false,
  jsc: {
    target: 'es2023',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

const shared = {
  testEnvironment: 'node',
  rootDir: '.',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    '^@neonpro/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

/** What each project needs before it runs: the built dist/ and the backing services. */
export const NEEDS = {
  unit: { build: false, services: false },
  integration: { build: false, services: true },
  e2e: { build: true, services: true },
  deploy: { build: true, services: false },
  drills: { build: true, services: true },
};

/**
 * Tests that measure the machine (the soak asserts event-loop lag): `npm test` runs them after
 * everything else, alone, so they measure the system under their own load and not whichever
 * suites the other Jest worker happens to run (integration suites, a helm rendering).
 * NEONPRO_TEST_PHASE (set by tools/test/run.mjs): `shared` leaves these out, `exclusive` runs only
 * these; unset, everything runs together.
 */
export const EXCLUSIVE = ['test/drills/soak.drill.spec.ts'];
const phase = process.env.NEONPRO_TEST_PHASE;
const exclusivePattern = EXCLUSIVE.map((f) => f.replace(/[.]/g, '\\.')).join('|');

/** The projects a path argument may hold (run.mjs maps path arguments with it); a folder may hold several. */
export function projectsOf(path) {
  if (/\.int\.spec\.ts$/.test(path)) {
    return ['integration'];
  }
  if (/(^|\/)test\/e2e(\/|$)/.test(path)) {
    return ['e2e'];
  }
  if (/(^|\/)test\/drills(\/|$)/.test(path)) {
    return ['drills'];
  }
  if (/(^|\/)test\/deploy(\/|$)/.test(path) || /autoscaling-metric\.spec\.ts$/.test(path)) {
    return ['deploy'];
  }
  if (/\.spec\.ts$/.test(path) || /(^|\/)src(\/|$)/.test(path)) {
    return ['unit'];
  }
  return Object.keys(NEEDS);
}

const projects = [
  {
    ...shared,
    displayName: 'unit',
    // Beside the code, no services, no network, no real timers; plus the import-graph test.
    testMatch: ['<rootDir>/{services,libs}/*/src/**/*.spec.ts', '<rootDir>/test/architecture/**/*.spec.ts'],
    testPathIgnorePatterns: [...shared.testPathIgnorePatterns, '\\.int\\.spec\\.ts$'],
  },
  {
    ...shared,
    displayName: 'integration',
    testMatch: ['<rootDir>/{services,libs,test}/**/*.int.spec.ts'],
  },
  { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'] },
  {
    ...shared,
    displayName: 'deploy',
    // The autoscaling check lives with the agent (it reads the agent's metrics code) but renders manifests.
    testMatch: ['<rootDir>/test/deploy/**/*.spec.ts', '<rootDir>/services/ai-agent/test/autoscaling-metric.spec.ts'],
  },
  { ...shared, displayName: 'drills', testMatch: ['<rootDir>/test/drills/**/*.spec.ts'] },
].flatMap((project) => {
  if (phase === 'shared') {
    return [{ ...project, testPathIgnorePatterns: [...project.testPathIgnorePatterns, exclusivePattern] }];
  }
  if (phase === 'exclusive') {
    const own = EXCLUSIVE.filter((f) => projectsOf(f).includes(project.displayName));
    return own.length ? [{ ...project, testMatch: own.map((f) => `<rootDir>/${f}`) }] : [];
  }
  return [project];
});

export default {
  maxWorkers: 2,
  // Global in Jest 30 (a project's own testTimeout is ignored).
  testTimeout: 60000,
  projects,
};
