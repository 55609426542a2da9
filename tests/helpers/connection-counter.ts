/** A TCP listener on loopback that only counts who connects to it (and hangs up on them). */
export function connectionCounter() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  (async () => {
    for await (const connection of listener) {
      connections++;
      connection.close();
    }
  })().catch(() => {});
  return {
    port: listener.addr.port,
    get connections() {
      return connections;
    },
    close: () => listener.close(),
  };
}
