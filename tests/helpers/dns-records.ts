/** The names the suite's DNS server knows. Any other name resolves to a public address. */
import type { DnsServerOptions } from "../../scripts/local-stack/dns-server.ts";

export const PUBLIC_IPV4 = "93.184.215.14";
export const PUBLIC_IPV6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c";
const ZONE = "dns-test.wundertreos.example";

export const DNS_NAMES = {
  publicV4: `public-v4.${ZONE}`,
  publicV6: `public-v6.${ZONE}`,
  privateV4: `private-v4.${ZONE}`,
  loopback: `loopback.${ZONE}`,
  metadata: `metadata.${ZONE}`,
  cgnat: `cgnat.${ZONE}`,
  uniqueLocalV6: `ula-v6.${ZONE}`,
  mappedV6: `mapped-v6.${ZONE}`,
  mixed: `mixed.${ZONE}`,
  nxdomain: `nxdomain.${ZONE}`,
  noRecords: `empty.${ZONE}`,
};

export const DNS_RECORDS: DnsServerOptions = {
  fallback: { A: [PUBLIC_IPV4] },
  records: {
    [DNS_NAMES.publicV4]: { A: [PUBLIC_IPV4] },
    [DNS_NAMES.publicV6]: { AAAA: [PUBLIC_IPV6] },
    [DNS_NAMES.privateV4]: { A: ["10.20.30.40"] },
    [DNS_NAMES.loopback]: { A: ["127.0.0.1"] },
    [DNS_NAMES.metadata]: { A: ["169.254.169.254"] },
    [DNS_NAMES.cgnat]: { A: ["100.64.1.1"] },
    [DNS_NAMES.uniqueLocalV6]: { AAAA: ["fd12:3456:789a::1"] },
    [DNS_NAMES.mappedV6]: { AAAA: ["::ffff:10.0.0.1"] },
    [DNS_NAMES.mixed]: { A: [PUBLIC_IPV4], AAAA: ["::1"] },
    [DNS_NAMES.nxdomain]: null,
    [DNS_NAMES.noRecords]: {},
  },
};
