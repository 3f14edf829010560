import { NestFactory } from '@nestjs/core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { AppModule } from '../app.module';
import { resolveMasterKey } from '../common/auth/secret-box';
import { loadConfig } from '../config/app-config';
import { dataSourceOptions } from '../database/data-source';
import { revertLastMigration, runMigrations } from '../database/migrate';
import { resolveDatabase } from '../database/resolve-database';
import { failureMessage } from './failure-message';

const USAGE = 'usage: npm run migration:run | migration:revert | migration:generate -- <PascalCaseName>';

/**
 * `run` and `revert` use the same advisory lock as the server's start. `generate` boots the app's
 * modules (so it sees every entity), applies pending migrations, and writes the difference
 * between the entities and the schema as a new migration for a human to read and complete.
 */
async function main([command, name]: string[]): Promise<void> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const database = await resolveDatabase(config);
  const settings = {
    url: database.url,
    poolSize: 2,
    connectTimeoutMs: config.dbConnectTimeoutMs,
    statementTimeoutMs: 0,
    idleInTransactionTimeoutMs: config.dbIdleInTransactionTimeoutMs,
  };
  try {
    if (command === 'run' || command === 'revert') {
      const dataSource = await new DataSource(dataSourceOptions(settings)).initialize();
      try {
        if (command === 'run') console.log(JSON.stringify({ applied: await runMigrations(dataSource) }));
        else await revertLastMigration(dataSource);
      } finally {
        await dataSource.destroy();
      }
    } else if (command === 'generate') {
      if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) throw new Error(`${USAGE}\n(the name must be PascalCase)`);
      const app = await NestFactory.createApplicationContext(
        AppModule.register({ ...config, databaseUrl: database.url, masterKey: resolveMasterKey(config) }),
        // abortOnError: false, or Nest exits the process on a failed start, before anything is printed.
        { logger: false, abortOnError: false },
      );
      try {
        const sql = await app.get(DataSource).driver.createSchemaBuilder().log();
        if (sql.upQueries.length === 0) return console.log('The entities match the schema: nothing to generate.');
        const timestamp = Date.now();
        const file = path.join('migrations', `${timestamp}-${name}.ts`);
        const lines = (queries: { query: string }[]) => queries.map((q) => `    await q.query(${JSON.stringify(q.query)});`).join('\n');
        fs.writeFileSync(
          file,
          `import type { MigrationInterface, QueryRunner } from 'typeorm';\n\n` +
            `export class ${name}${timestamp} implements MigrationInterface {\n  name = '${name}${timestamp}';\n\n` +
            `  async up(q: QueryRunner): Promise<void> {\n${lines(sql.upQueries)}\n  }\n\n` +
            `  async down(q: QueryRunner): Promise<void> {\n${lines([...sql.downQueries].reverse())}\n  }\n}\n`,
        );
        console.log(`Wrote ${file}: a draft. Keep only the statements for your tables (it also proposes dropping what entities do not declare) and check down(); it is found by its file name.`);
      } finally {
        await app.close();
      }
    } else {
      throw new Error(USAGE);
    }
  } finally {
    await database.release();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`error: ${failureMessage(error, [process.env.DATABASE_URL])}`);
  process.exitCode = 1;
});
