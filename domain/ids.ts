// Ids of stored rows are UUIDs: a path id that is not one names nothing (a 404), and is never sent
// to PostgreSQL, whose uuid columns would refuse it.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (s: string): boolean => UUID.test(s);
