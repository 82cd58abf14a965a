export * from './classification.js';
