export * from './database.js';
export * from './environment.js';
export * from './redis.js';
export * from './redis-server.js';
export * from './redis-cluster.js';
export { migrationNames } from './template.js';
