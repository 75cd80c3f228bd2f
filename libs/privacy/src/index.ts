export * from './pseudonymizer.js';
export * from './stream-restorer.js';
