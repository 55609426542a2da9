import assert from "node:assert/strict";
import fc from "fast-check";
import { toHex } from "../../supabase/functions/api-webhook-subscriptions/random.ts";
import { sha256 } from "../../supabase/functions/api-webhook-subscriptions/sha256.ts";

const subtleHex = async (bytes: Uint8Array<ArrayBuffer>) =>
  toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));

Deno.test("unit: sha256 gives the FIPS 180-4 example digests", () => {
  const cases: [string, string][] = [
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
    [
      "a".repeat(1_000_000),
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    ],
  ];
  for (const [input, digest] of cases) {
    assert.equal(toHex(sha256(input)), digest);
  }
});

Deno.test("unit: sha256 agrees with crypto.subtle at every length around the block edges", async () => {
  for (let length = 0; length <= 200; length++) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    assert.equal(
      toHex(sha256(bytes)),
      await subtleHex(bytes),
      `length ${length}`,
    );
  }
});

Deno.test("unit: sha256 agrees with crypto.subtle on random strings (UTF-8) and bytes", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.string({ unit: "binary", maxLength: 300 }),
      async (text) => {
        assert.equal(
          toHex(sha256(text)),
          await subtleHex(new TextEncoder().encode(text)),
        );
      },
    ),
    { numRuns: 2000 },
  );
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 1000 }), async (bytes) => {
      assert.equal(toHex(sha256(bytes)), await subtleHex(new Uint8Array(bytes)));
    }),
    { numRuns: 500 },
  );
});
