/** The tracking store on PostgreSQL: the same logic and migrations as SQLite, over PgDriver. */

import pg from 'pg';
import { KeelError } from '../core/errors.js';
import { schemaVersion } from './migrations.js';
import { PgDriver, type PgDriverOptions, redact } from './pg-driver.js';
import type { AuditOpts } from './sql-registry.js';
import { SqlTrackingStore } from './sql-store.js';
import type { RegistryChange, RegistryNotifier, RegistrySubscription } from './types.js';

/** The channel alias moves are announced on (payload: JSON { schema, model, alias }). */
export const REGISTRY_CHANNEL = 'keel_registry';

export class PostgresStore extends SqlTrackingStore implements RegistryNotifier {
  private readonly schema: string;

  constructor(
    readonly url: string,
    options: PgDriverOptions = {},
  ) {
    const driver = new PgDriver(url, options);
    super(driver);
    this.schema = options.schema ?? 'public';
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

  override async setAlias(name: string, alias: string, version: number, opts: AuditOpts = {}): Promise<void> {
    await super.setAlias(name, alias, version, opts);
    await this.announce(name, alias);
  }

  override async deleteAlias(name: string, alias: string, opts: AuditOpts = {}): Promise<void> {
    await super.deleteAlias(name, alias, opts);
    await this.announce(name, alias);
  }

  /** NOTIFY listeners after the change committed; a failed notification only delays pickup to the next poll. */
  private async announce(model: string, alias: string): Promise<void> {
    await (this.driver as PgDriver)
      .notify(REGISTRY_CHANNEL, JSON.stringify({ schema: this.schema, model, alias }))
      .catch(() => {});
  }

  /**
   * LISTEN for alias moves in this store's schema on a connection of its own: servers pick up a
   * promotion at once instead of at their next poll.
   */
  async subscribeRegistry(listener: (change: RegistryChange) => void): Promise<RegistrySubscription> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('error', () => {}); // a dropped connection: polling still works
    try {
      await client.connect();
      await client.query(`LISTEN ${REGISTRY_CHANNEL}`);
    } catch (e) {
      await client.end().catch(() => {});
      throw new KeelError(
        'KEEL_E_STORE',
        `cannot LISTEN on PostgreSQL at ${redact(this.url)}: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    }
    client.on('notification', (n) => {
      if (n.channel !== REGISTRY_CHANNEL || !n.payload) return;
      try {
        const p = JSON.parse(n.payload) as { schema?: string; model?: string; alias?: string };
        if (p.schema === this.schema && typeof p.model === 'string' && typeof p.alias === 'string')
          listener({ model: p.model, alias: p.alias });
      } catch {
        // not ours
      }
    });
    return { close: () => client.end().catch(() => {}) };
  }
}
