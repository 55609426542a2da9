import assert from "node:assert/strict";
import {
  isPublicAddress,
  refuseTarget,
  type TargetPolicy,
} from "../../supabase/functions/_shared/target-policy.ts";

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
  // An empty label would otherwise slip past the own-host and reserved-name checks.
  for (const url of ["https://api.wundertreos.com../x", "https://example..com/"]) {
    assert.equal(await refuseTarget(new URL(url), policy("strict")), "reserved_hostname", url);
  }
  assert.equal(
    await refuseTarget(new URL("https://example.com/"), policy("strict", new Error("timeout"))),
    "unresolvable_host",
  );
  assert.equal(
    await refuseTarget(new URL("https://example.com/"), policy("strict", [])),
    "unresolvable_host",
  );
});

Deno.test("unit: strict judges an IP literal host as an address and never resolves it", async () => {
  const resolved: string[] = [];
  const strict: TargetPolicy = {
    mode: "strict",
    ownHosts: ["api.wundertreos.com"],
    resolver: {
      resolve: (host) => {
        resolved.push(host);
        return Promise.resolve(["93.184.215.14"]);
      },
    },
  };
  const cases: [string, string | null][] = [
    ["https://8.8.8.8/", null],
    ["https://[2606:4700:4700::1111]/", null],
    ["https://[2606:4700:4700:0:0:0:0:1111]/", null],
    ["https://134744072/", null], // WHATWG makes it 8.8.8.8
    ["https://0x7f.1/", "private_address"], // 127.0.0.1
    ["https://0177.0.0.1/", "private_address"],
    ["https://2130706433/", "private_address"],
    ["https://010.0.0.1/", null], // WHATWG reads octal: 8.0.0.1
    ["https://[::ffff:127.0.0.1]/", "private_address"],
    ["https://[::ffff:8.8.8.8]/", "private_address"],
    ["https://[64:ff9b::8.8.8.8]/", "private_address"],
    ["https://[2002:808:808::1]/", "private_address"],
    ["https://[2001:db8::1]/", "private_address"],
    ["https://169.254.169.254./latest/meta-data", "private_address"],
    // Not an address in strict form after WHATWG, but spelled like one: refused, not resolved.
    ["https://8.8.8.8../", "private_address"],
  ];
  for (const [url, expected] of cases) {
    assert.equal(await refuseTarget(new URL(url), strict), expected, url);
  }
  assert.deepEqual(resolved, []);
  assert.equal(await refuseTarget(new URL("https://example.com/"), strict), null);
  assert.deepEqual(resolved, ["example.com"]);
});

Deno.test("unit: strict refuses a name when any one of its answers is not public", async () => {
  for (
    const answers of [
      ["93.184.215.14", "10.0.0.1"],
      ["93.184.215.14", "::ffff:127.0.0.1"],
      ["2606:4700:4700::1111", "fd00::1"],
      ["093.184.215.14"], // not a strict address, so not public
      ["2606:4700:4700::1111%eth0"],
    ]
  ) {
    assert.equal(
      await refuseTarget(new URL("https://example.com/"), policy("strict", answers)),
      "private_address",
      answers.join(", "),
    );
  }
  const publicAnswers = ["93.184.215.14", "2606:4700:4700::1111", "2606:4700:4700:0:0:0:0:1111"];
  assert.equal(
    await refuseTarget(new URL("https://example.com/"), policy("strict", publicAnswers)),
    null,
  );
});
