/** The tracking store on PostgreSQL: the same logic and migrations as SQLite, over PgDriver. */

import { schemaVersion } from './migrations.js';
import { PgDriver, type PgDriverOptions } from './pg-driver.js';
import { SqlTrackingStore } from './sql-store.js';

export class PostgresStore extends SqlTrackingStore {
  constructor(url: string, options: PgDriverOptions = {}) {
    const driver = new PgDriver(url, options);
    super(driver);
    // after migrations, writes no longer need the migration lock
    this.migrated().then(
      () => {
        driver.exclusive = false;
      },
      () => {},
    );
  }

  async schemaVersion(): Promise<number> {
    await this.migrated();
    return schemaVersion(this.driver);
  }
}
