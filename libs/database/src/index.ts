export * from './database.js';
export * from './errors.js';
export * from './cpf.js';
export * from './pagination.js';
export * from './migrate.js';
export * from './repositories/index.js';
export * from './database-lifecycle.js';
