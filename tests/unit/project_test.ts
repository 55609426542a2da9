import assert from "node:assert/strict";
import { readConfig } from "../../supabase/functions/_shared/config.ts";

const read = async (path: string) =>
  JSON.parse(await Deno.readTextFile(new URL(`../../${path}`, import.meta.url)));

Deno.test("unit: each function's deploy-time deno.json pins exactly what the project pins", async () => {
  const root = await read("deno.json");
  for (const name of ["api-webhook-subscriptions", "webhook-dispatcher"]) {
    const fn = await read(`supabase/functions/${name}/deno.json`);
    const lock = await read(`supabase/functions/${name}/deno.lock`);
    for (const [module, specifier] of Object.entries(fn.imports)) {
      assert.equal(specifier, root.imports[module], `${name}: ${module}`);
      assert.match(String(specifier), /^npm:(@[^/]+\/)?[^@]+@\d+\.\d+\.\d+(-[\w.]+)?$/, module);
      assert.ok(lock.specifiers[String(specifier)], `${name}'s deno.lock locks ${specifier}`);
    }
  }
  for (const specifier of Object.values(root.imports) as string[]) {
    assert.match(
      specifier,
      /^npm:\/?(@[^/]+\/)?[^@]+@\d+\.\d+\.\d+(-[\w.]+)?\/?$/,
      "pinned npm only",
    );
  }
});

Deno.test("unit: a missing platform variable is a clear start-up error", () => {
  const env = (values: Record<string, string>) => (name: string) => values[name];
  assert.throws(
    () => readConfig(env({ SUPABASE_SERVICE_ROLE_KEY: "k" })),
    /missing environment variable SUPABASE_URL\b/,
  );
  assert.throws(
    () => readConfig(env({ SUPABASE_URL: "http://x" })),
    /missing environment variable SUPABASE_SERVICE_ROLE_KEY/,
  );
  assert.throws(
    () => readConfig(env({ SUPABASE_URL: "not a url", SUPABASE_SERVICE_ROLE_KEY: "k" })),
    /SUPABASE_URL is not a valid URL/,
  );
  const defaults = {
    supabaseUrl: "http://x",
    serviceRoleKey: "k",
    legacyJwtSecret: undefined,
    corsAllowedOrigins: [],
    targetPolicy: "strict",
    targetDnsServer: undefined,
    ownHosts: ["x"],
    maxSubscriptionsPerWorkspace: 100,
    readsPerMinute: 600,
    writesPerMinute: 60,
  };
  assert.deepEqual(
    readConfig(env({ SUPABASE_URL: "http://x", SUPABASE_SERVICE_ROLE_KEY: "k" })),
    defaults,
  );
  assert.deepEqual(
    readConfig(env({
      SUPABASE_URL: "http://x",
      SUPABASE_SERVICE_ROLE_KEY: "k",
      JWT_SECRET: "s",
      CORS_ALLOWED_ORIGINS: "https://app.wundertreos.com, http://localhost:3000",
    })),
    {
      ...defaults,
      legacyJwtSecret: "s",
      corsAllowedOrigins: ["https://app.wundertreos.com", "http://localhost:3000"],
    },
  );
  for (const bad of ["*", "https://app.example.com/", "app.example.com"]) {
    assert.throws(
      () =>
        readConfig(
          env({
            SUPABASE_URL: "http://x",
            SUPABASE_SERVICE_ROLE_KEY: "k",
            CORS_ALLOWED_ORIGINS: bad,
          }),
        ),
      /CORS_ALLOWED_ORIGINS/,
      bad,
    );
  }
});
