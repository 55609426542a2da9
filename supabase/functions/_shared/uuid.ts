// Postgres's uuid type takes any 8-4-4-4-12 hex spelling, whatever its version bits, so an id or a
// claim is checked for that shape alone; one that fails is treated as unknown.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
