export type { ParsedCsv } from './csv.js';
export { parseCsv } from './csv.js';
export type { CategoricalColumn, Column, NumericColumn, Scalar, StringColumn } from './frame.js';
export {
  categoricalColumn,
  cellValue,
  columnLength,
  Frame,
  numericColumn,
  stringColumn,
  takeColumn,
} from './frame.js';
export { inferSchemaFromRows } from './infer.js';
export { isPostgresSource, readPostgres } from './postgres-source.js';
export type { ColumnProfile, DataProfile, ProfileOptions, Quantiles } from './profile.js';
export { formatProfile, profileFrame, profileFrameParallel, psi } from './profile.js';
export type { DataSource, ReadResult } from './read.js';
export { readCsv } from './read.js';
export type { FieldError, RecordsOptions } from './records.js';
export { recordsToFrame } from './records.js';
export { assertValid, formatReport, quarantineCsv, renderReportHtml, reportSummary } from './report.js';
export type { ColumnSpec, ColumnSpecInput, ColumnType, Schema, SchemaInput, TargetSpec } from './schema.js';
export {
  ColumnSpecSchema,
  columnTypes,
  featureSpecs,
  loadSchema,
  parseSchema,
  SchemaSchema,
} from './schema.js';
export type { ChurnRow } from './synth.js';
export { churnCsv, churnSchema, generateChurn, generateChurnRows, writeChurnCsv } from './synth.js';
export type { ReadTableOptions, TableFormat } from './table.js';
export { readTable, tableFormat } from './table.js';
export type { Quarantine, Severity, ValidationReport, Violation } from './validate.js';
export { typeAndValidate } from './validate.js';
export type { ColumnChange, DatasetDiff, DatasetVersion, SyncResult } from './versions.js';
export { DatasetStore, openDatasetStore, schemaHash } from './versions.js';
