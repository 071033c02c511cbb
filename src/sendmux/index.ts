export * from './client.js';
export * from './errors.js';
export * from './rate-limit-headers.js';
export * from './schemas.js';
export * from './pagination.js';
