import assert from "node:assert/strict";
import { DNS_NAMES, PUBLIC_IPV4 } from "./helpers/dns-records.ts";
import { newToken, sql, stack, subscriptionCount } from "./helpers/stack.ts";
import { call, created } from "./helpers/subscriptions.ts";

const REFUSED: [string, string][] = [
  // Scheme: strict means https only.
  ["http://example.com/hook", "scheme_not_allowed"],
  // IP literals that are not public unicast, in every spelling the URL parser accepts.
  ["https://127.0.0.1/", "private_address"],
  ["https://127.1/", "private_address"],
  ["https://0x7f.0.0.1/", "private_address"],
  ["https://2130706433/", "private_address"],
  ["https://017700000001/", "private_address"],
  ["https://0.0.0.0/", "private_address"],
  ["https://10.0.0.1/", "private_address"],
  ["https://172.16.5.4/", "private_address"],
  ["https://192.168.1.1/", "private_address"],
  ["https://169.254.169.254/latest/meta-data/", "private_address"],
  ["https://100.64.0.1/", "private_address"],
  ["https://224.0.0.1/", "private_address"],
  ["https://240.0.0.1/", "private_address"],
  ["https://255.255.255.255/", "private_address"],
  ["https://192.0.2.10/", "private_address"],
  ["https://198.18.0.1/", "private_address"],
  ["https://[::1]/", "private_address"],
  ["https://[::]/", "private_address"],
  ["https://[::ffff:127.0.0.1]/", "private_address"],
  ["https://[::ffff:7f00:1]/", "private_address"],
  ["https://[::127.0.0.1]/", "private_address"],
  ["https://[::8.8.8.8]/", "private_address"],
  ["https://[64:ff9b::7f00:1]/", "private_address"],
  ["https://[64:ff9b::808:808]/", "private_address"],
  ["https://[2002:7f00:1::1]/", "private_address"],
  ["https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "private_address"],
  ["https://[fe80::1]/", "private_address"],
  ["https://[fd00::1]/", "private_address"],
  ["https://[ff02::1]/", "private_address"],
  ["https://[2001:db8::1]/", "private_address"],
  // Names that are local by definition.
  ["https://localhost/", "reserved_hostname"],
  ["https://LOCALHOST./", "reserved_hostname"],
  ["https://api.localhost/", "reserved_hostname"],
  ["https://printer.local/", "reserved_hostname"],
  ["https://db.internal/", "reserved_hostname"],
  ["https://intranet/", "reserved_hostname"],
  // Names whose answers are not all public.
  [`https://${DNS_NAMES.privateV4}/`, "private_address"],
  [`https://${DNS_NAMES.loopback}/`, "private_address"],
  [`https://${DNS_NAMES.metadata}/`, "private_address"],
  [`https://${DNS_NAMES.cgnat}/`, "private_address"],
  [`https://${DNS_NAMES.uniqueLocalV6}/`, "private_address"],
  [`https://${DNS_NAMES.mappedV6}/`, "private_address"],
  [`https://${DNS_NAMES.mixed}/`, "private_address"],
  // Names that do not resolve: refused, fail closed.
  [`https://${DNS_NAMES.nxdomain}/`, "unresolvable_host"],
  [`https://${DNS_NAMES.noRecords}/`, "unresolvable_host"],
];

for (const [targetUrl, reason] of REFUSED) {
  Deno.test(`strict targets: ${targetUrl} is refused as ${reason}`, async () => {
    const { token, workspaceId } = await newToken();
    const answer = await call(token, "POST", "", {
      target_url: targetUrl,
      event_types: ["deal.created"],
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error, "invalid_request");
    assert.deepEqual(answer.body.details, [
      { field: "target_url", code: reason, message: answer.body.details[0].message },
    ]);
    assert.ok(
      !answer.text.includes(PUBLIC_IPV4) && !answer.text.includes("10.20.30.40"),
      "nothing resolved is echoed",
    );
    assert.equal(await subscriptionCount(workspaceId), 0);
  });
}

Deno.test("strict targets: public names (A or AAAA only) and public IP literals are accepted", async () => {
  const { token } = await newToken();
  for (
    const targetUrl of [
      `https://${DNS_NAMES.publicV4}/hook`,
      `https://${DNS_NAMES.publicV6}/hook`,
      "https://8.8.8.8/hook",
      "https://[2606:4700:4700::1111]/hook",
    ]
  ) {
    const answer = await call(token, "POST", "", {
      target_url: targetUrl,
      event_types: ["deal.created"],
    });
    assert.equal(answer.status, 201, targetUrl);
  }
});

Deno.test("strict targets: the API's own host is refused", async () => {
  const { token } = await newToken();
  const own = new URL(stack.apiUrl);
  const answer = await call(token, "POST", "", {
    target_url: `https://${own.hostname}/functions/v1/api-webhook-subscriptions`,
    event_types: ["deal.created"],
  });
  assert.equal(answer.status, 400);
  assert.ok(["own_host", "private_address"].includes(answer.body.details[0].code));
});

Deno.test("strict targets: PATCH is held to the same policy and changes nothing when refused", async () => {
  const { token } = await newToken();
  const subscription = await created(token);
  const [before] = await sql("select * from public.webhook_subscriptions where id = $1", [
    subscription.id,
  ]);
  for (
    const targetUrl of [
      "http://example.com/x",
      "https://169.254.169.254/",
      `https://${DNS_NAMES.nxdomain}/`,
    ]
  ) {
    const answer = await call(token, "PATCH", `/${subscription.id}`, {
      target_url: targetUrl,
      enabled: false,
    });
    assert.equal(answer.status, 400, targetUrl);
    assert.equal(answer.body.details[0].field, "target_url");
  }
  const [after] = await sql("select * from public.webhook_subscriptions where id = $1", [
    subscription.id,
  ]);
  assert.deepEqual(after, before);
});
