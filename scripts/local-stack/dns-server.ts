/**
 * A small authoritative DNS server on loopback (UDP), so tests exercise the function's real
 * resolver against names whose answers they choose. Answers A and AAAA from a table; names not in
 * the table get `fallback`; names mapped to null get NXDOMAIN.
 */
import dgram from "node:dgram";
import { Buffer } from "node:buffer";

export interface DnsRecords {
  A?: string[];
  AAAA?: string[];
}

export interface DnsServerOptions {
  records: Record<string, DnsRecords | null>;
  fallback: DnsRecords;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

function readName(message: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  while (message[offset] !== 0) {
    const length = message[offset];
    labels.push(message.subarray(offset + 1, offset + 1 + length).toString("latin1"));
    offset += length + 1;
  }
  return { name: labels.join(".").toLowerCase(), end: offset + 1 };
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail = ""] = address.split("::");
  const parse = (part: string) => part ? part.split(":").map((group) => parseInt(group, 16)) : [];
  const start = parse(head);
  const end = parse(tail);
  const groups = address.includes("::")
    ? [...start, ...new Array(8 - start.length - end.length).fill(0), ...end]
    : start;
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(group, i * 2));
  return bytes;
}

function answer(query: Buffer, options: DnsServerOptions): Buffer {
  const { name, end } = readName(query, 12);
  const type = query.readUInt16BE(end);
  const question = query.subarray(12, end + 4);
  const entry = name in options.records ? options.records[name] : options.fallback;
  const addresses = entry === null
    ? []
    : type === TYPE_A
    ? entry.A ?? []
    : type === TYPE_AAAA
    ? entry.AAAA ?? []
    : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(entry === null ? 0x8183 : 0x8580, 2); // response, authoritative; NXDOMAIN
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const records = addresses.map((address) => {
    const data = type === TYPE_A ? Buffer.from(address.split(".").map(Number)) : ipv6Bytes(address);
    const record = Buffer.alloc(12);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    record.writeUInt16BE(type, 2);
    record.writeUInt16BE(1, 4); // class IN
    record.writeUInt32BE(60, 6);
    record.writeUInt16BE(data.length, 10);
    return Buffer.concat([record, data]);
  });
  return Buffer.concat([header, question, ...records]);
}

export async function startDnsServer(
  options: DnsServerOptions,
): Promise<{ port: number; close(): Promise<void> }> {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (query, peer) => {
    try {
      socket.send(answer(query, options), peer.port, peer.address);
    } catch {
      // A malformed query gets no answer, as from a real server.
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    port: socket.address().port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
