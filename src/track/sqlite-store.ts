/**
 * The embedded tracking store: one SQLite file (WAL mode, foreign keys on, busy timeout), the
 * migrations applied at open, every multi-row write in one transaction. All the logic is shared
 * with the PostgreSQL store to come (sql-store.ts); this class only opens the file.
 */
import type Database from 'better-sqlite3';
import { schemaVersion } from './migrations.js';
import { SqlTrackingStore } from './sql-store.js';
import { SqliteDriver } from './sqlite-driver.js';

export const DEFAULT_STORE_PATH = '.keel/keel.db';

export class SqliteStore extends SqlTrackingStore {
  /** The open better-sqlite3 database, for tests and maintenance (not part of TrackingStore). */
  readonly db: Database.Database;

  /** Opens (creating the file and its directory if needed) a path, or ':memory:'. */
  constructor(readonly path: string = DEFAULT_STORE_PATH) {
    const driver = new SqliteDriver(path);
    super(driver);
    this.db = driver.db;
  }

  /** The id of the newest applied migration. */
  async schemaVersion(): Promise<number> {
    await this.migrated();
    return schemaVersion(this.driver);
  }
}
