import type pg from "pg";
import { join } from "node:path";

const here = (path: string) => new URL(path, import.meta.url);

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Roles, schemas and auth helpers that Supabase has before any migration runs. */
export async function bootstrapPlatform(client: pg.Client, authenticatorPassword: string) {
  await client.query(await Deno.readTextFile(here("./bootstrap.sql")));
  await client.query(
    `alter role authenticator with login password ${quoteLiteral(authenticatorPassword)}`,
  );
}

/** Applies each not-yet-applied migration in filename order, each in its own transaction. */
export async function applyMigrations(client: pg.Client, migrationsDir: string): Promise<string[]> {
  const files = [];
  for await (const entry of Deno.readDir(migrationsDir)) {
    if (entry.isFile && entry.name.endsWith(".sql")) files.push(entry.name);
  }
  files.sort();
  const { rows } = await client.query<{ version: string }>(
    "select version from supabase_migrations.schema_migrations",
  );
  const applied = new Set(rows.map((row) => row.version));
  const versions = new Set(files.map((file) => file.split("_")[0]));
  const unknown = [...applied].filter((version) => !versions.has(version));
  if (unknown.length > 0) {
    throw new Error(
      `this database has migrations that supabase/migrations no longer holds (${
        unknown.join(", ")
      }), so its schema is not the project's; start over with 'deno task start --fresh'`,
    );
  }
  const appliedNow = [];
  for (const file of files) {
    const [version, ...nameParts] = file.replace(/\.sql$/, "").split("_");
    if (applied.has(version)) continue;
    const sql = await Deno.readTextFile(join(migrationsDir, file));
    await client.query("begin");
    try {
      await client.query(sql);
      await client.query(
        "insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)",
        [version, nameParts.join("_"), [sql]],
      );
      await client.query("commit");
    } catch (error) {
      await client.query("rollback");
      throw new Error(`migration ${file} failed: ${(error as Error).message}`);
    }
    appliedNow.push(file);
  }
  return appliedNow;
}

/** What the local stack adds after the migrations: the scheduler's wake trigger. Idempotent. */
export async function installLocalWake(client: pg.Client) {
  await client.query(await Deno.readTextFile(here("./wake-dispatcher.sql")));
}

export async function applySeed(client: pg.Client, seedFile: string) {
  await client.query(await Deno.readTextFile(seedFile));
}
