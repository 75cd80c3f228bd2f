export * from './request-id.js';
export * from './trace-context.js';
export * from './redaction.js';
export * from './logger.js';
export * from './metrics.js';
export * from './health.js';
export * from './ops.controller.js';
export * from './ops.module.js';
