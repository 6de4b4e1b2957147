import type { EntityManager } from '@mikro-orm/postgresql';
import type { Knex } from '@mikro-orm/knex';

export type Row = Record<string, any>;

/**
 * Raw SQL on the EntityManager's connection, inside its transaction when it has one. Set-based
 * statements pass large JSON parameters (a batch chunk's readings); MikroORM's `execute` formats
 * every parameter into a loggable query string first, which grows worse than linearly with the
 * parameter size (seconds for a few MB), so these go to knex directly.
 */
export async function sql(em: EntityManager, query: string, params: unknown[] = []): Promise<Row[]> {
  const knex = (em.getTransactionContext() as Knex.Transaction | undefined) ?? em.getConnection().getKnex();
  const result = await knex.raw(query, params as Knex.RawBinding[]);
  return result.rows as Row[];
}
