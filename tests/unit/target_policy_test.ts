import assert from "node:assert/strict";
import {
  isPublicAddress,
  refuseTarget,
  type TargetPolicy,
} from "../../supabase/functions/api-webhook-subscriptions/target-policy.ts";

const policy = (mode: TargetPolicy["mode"], answers: string[] | Error = ["93.184.215.14"]) => ({
  mode,
  ownHosts: ["api.wundertreos.com"],
  resolver: {
    resolve: () => answers instanceof Error ? Promise.reject(answers) : Promise.resolve(answers),
  },
});

Deno.test("unit: public means globally routable unicast, including ipaddr.js's known gaps", () => {
  for (
    const address of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e"]
  ) {
    assert.ok(isPublicAddress(address), address);
  }
  for (
    const address of [
      "0.1.2.3", // "this network", 0/8
      "192.0.0.8", // IETF protocol assignments
      "198.51.100.7", // TEST-NET-2
      "203.0.113.9", // TEST-NET-3
      "::8.8.8.8", // IPv4-compatible (deprecated)
      "::0.0.0.1",
      "64:ff9b:1::a00:1", // local-use NAT64
      "100::1", // discard
      "2001:2::1", // benchmarking
      "::1:0:0", // outside 2000::/3, which is all IANA allocates (found by the hostile suite)
      "1::",
      "4000::1",
      "not an address",
      "",
    ]
  ) {
    assert.ok(!isPublicAddress(address), address);
  }
});

Deno.test("unit: the permissive local policy allows http and loopback", async () => {
  for (const url of ["http://127.0.0.1:8080/in", "http://localhost:3000/", "https://[::1]/"]) {
    assert.equal(await refuseTarget(new URL(url), policy("permissive")), null, url);
  }
});

Deno.test("unit: strict refuses the API's own host, and fails closed when resolution fails", async () => {
  assert.equal(
    await refuseTarget(new URL("https://API.wundertreos.com./x"), policy("strict")),
    "own_host",
  );
  assert.equal(
    await refuseTarget(new URL("https://example.com/"), policy("strict", new Error("timeout"))),
    "unresolvable_host",
  );
  assert.equal(
    await refuseTarget(new URL("https://example.com/"), policy("strict", [])),
    "unresolvable_host",
  );
});
