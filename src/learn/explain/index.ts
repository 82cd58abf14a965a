export type { PermutationImportance } from './importance.js';
export { meanAbsShap, permutationImportance } from './importance.js';
export type { ShapValues, TreeEnsemble } from './treeshap.js';
export { ensembleOf, treeExpectedValue, treeShap } from './treeshap.js';
