import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { openSqlStorage } from '../../src/storage/sql/sql-storage.js';
import { migrationContract, storageContract } from './contract.js';

function tempDatabase(): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-storage-'));
  return { file: join(dir, 'gatehouse.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

storageContract('SQLite', async () => {
  const { file, remove } = tempDatabase();
  const storage = openSqlStorage(file);
  await storage.migrate();
  return {
    storage,
    async cleanup() {
      await storage.close();
      remove();
    },
    async deleteUserRow(id) {
      // A second connection, as an operator's sqlite3 shell would be; foreign keys are per connection in SQLite.
      const database = new SQLite(file);
      try {
        database.pragma('foreign_keys = ON');
        database.prepare('delete from users where id = ?').run(id);
      } finally {
        database.close();
      }
    },
  };
});

migrationContract('SQLite', async () => {
  const { file, remove } = tempDatabase();
  const storage = openSqlStorage(file);
  return {
    storage,
    async cleanup() {
      await storage.close();
      remove();
    },
  };
});
