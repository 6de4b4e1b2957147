// Migrations are listed explicitly (no directory scan), so the same list runs under tsx, in tests
// and from the CLI. Generate new ones with db/make-migration.ts and add them here in order.
import { Migration20261124210513 } from './Migration20261124210513_tenancy';

export const migrationsList = [
  { name: 'Migration20261124210513_tenancy', class: Migration20261124210513 },
];
