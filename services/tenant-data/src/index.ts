export { tenantSchemaName, TENANT_SCHEMA_PATTERN, GATEWAY_ROLE } from './naming.js';
export { ensureTenantSchema, forgetTenantSchemas, actAsGateway } from './tenant-schema.js';
export { guardStatement, guardStatementSync, loadSqlGuard, SQL_MAX_CHARS, type Guarded, type StatementKind } from './sql-guard.js';
export { ALLOWED_FUNCTIONS } from './allowed-functions.js';
export {
  runTenantStatement,
  FREE_TABLE_LIMITS,
  RESULT_MAX_BYTES,
  PARAMS_MAX,
  type TableLimits,
  type ParamValue,
  type ColumnType,
  type StatementResult,
  type StatementOutcome,
} from './tenant-statement.js';
export { tenantDataErrors, type TenantDataError, type TenantDataErrorCode } from './tenant-data-errors.js';
export { listTenantTables, tableColumns, tenantTable, tenantSchemaBytes, quoteIdent, CATALOG_MAX_TABLES, type CatalogColumn, type CatalogTable } from './tenant-catalog.js';
export { runTenantBatch, BATCH_PARAMS_MAX, type BatchStatement, type BatchOutcome } from './tenant-batch.js';
