// Fair use: per-key rate limits that hold across every API process on one PostgreSQL. The counting
// is rate-limiter-flexible's RateLimiterPostgres (fixed one-minute windows, one atomic upsert per
// request) in the `rate_limits` table, which a migration creates (`tableCreated: true`: the library
// never creates tables at run time). The API process keeps no per-key state: the only thing cached
// is one limiter object per distinct limit (the library fixes a limiter's points at construction),
// at most MAX_CACHED_LIMITERS of them. If the store fails (database unreachable, too slow), the
// request goes through and a warning is logged: the limiter must not take the API down.
import type { ParameterizedContext } from 'koa';
import type { Logger } from 'pino';
import { Pool } from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { EntityManager } from '@mikro-orm/postgresql';
import { rateLimitsOf } from '../domain/organization';
import type { AppDeps } from './context';
import { HttpError } from './http-error';
import type { Auth, RouteSpec } from './route';

/** The two budgets of a key: every authenticated request, and batch submits (which use both). */
export type Budget = 'requests' | 'batch-submit';

export const RATE_LIMIT_TABLE = 'rate_limits';
const WINDOW_SECONDS = 60;
/** Row key prefixes: a key's budgets are separate rows (`req:<key id>`, `batch:<key id>`). */
const KEY_PREFIX: Record<Budget, string> = { requests: 'req', 'batch-submit': 'batch' };
const NOUN: Record<Budget, string> = { requests: 'requests', 'batch-submit': 'batch submits' };
/** Distinct limits in use at once (defaults plus organizations' own); least recently used go first. */
const MAX_CACHED_LIMITERS = 64;
/** Expired rows older than this are deleted, every CLEAR_EVERY_MS, by each API process. */
const CLEAR_EVERY_MS = 5 * 60_000;
const CLEAR_OLDER_THAN_MS = 60 * 60_000;
/** A store that does not answer in this time counts as failed (the request goes through). */
const STORE_TIMEOUT_MS = 2_000;
/** At most one "store failed" warning per this interval, not one per request. */
const WARN_EVERY_MS = 10_000;

export interface BudgetState {
  budget: Budget;
  /** Points per window (requests or submits per minute). */
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
  allowed: boolean;
}

export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterPostgres>();
  private readonly janitor: NodeJS.Timeout;
  private lastWarningAt = 0;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {
    // One timer for all limiters (the library's own per-limiter timer is off: clearExpiredByTimeout).
    this.janitor = setInterval(() => void this.clearExpired(), CLEAR_EVERY_MS);
    this.janitor.unref();
  }

  /** A limiter store with its own small pool on the API's database. */
  static open(databaseUrl: string, logger: Logger): RateLimits {
    const pool = new Pool({
      connectionString: databaseUrl,
      max: 4,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: STORE_TIMEOUT_MS,
      query_timeout: STORE_TIMEOUT_MS,
      application_name: 'evni-rate-limits',
    });
    // An idle connection's error (server restarted) must not crash the process.
    pool.on('error', (err) => logger.warn({ err }, 'rate limit store: idle connection failed'));
    return new RateLimits(pool, logger);
  }

  private limiter(budget: Budget, points: number): RateLimiterPostgres {
    const id = `${budget}:${points}`;
    let limiter = this.limiters.get(id);
    if (limiter) {
      this.limiters.delete(id); // re-inserted below: Map order is recency
    } else {
      limiter = new RateLimiterPostgres({
        storeClient: this.pool,
        storeType: 'pool',
        tableName: RATE_LIMIT_TABLE,
        tableCreated: true,
        clearExpiredByTimeout: false,
        keyPrefix: KEY_PREFIX[budget],
        points,
        duration: WINDOW_SECONDS,
      });
    }
    this.limiters.set(id, limiter);
    if (this.limiters.size > MAX_CACHED_LIMITERS) this.limiters.delete(this.limiters.keys().next().value!);
    return limiter;
  }

  /**
   * Counts one request of `key` against `budget` with `limit` per minute. Null when the store
   * failed: the caller lets the request through. Limiters with other limits for the same budget
   * count in the same row, so a changed limit applies to what the key has used this minute.
   */
  async consume(budget: Budget, key: string, limit: number): Promise<BudgetState | null> {
    let res: RateLimiterRes;
    let allowed = true;
    try {
      res = await this.limiter(budget, limit).consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        this.warn(err);
        return null;
      }
      res = err;
      allowed = false;
    }
    return {
      budget,
      limit,
      remaining: Math.max(0, res.remainingPoints),
      resetSeconds: Math.max(0, Math.ceil(res.msBeforeNext / 1000)),
      allowed,
    };
  }

  private warn(err: unknown) {
    const now = Date.now();
    if (now - this.lastWarningAt < WARN_EVERY_MS) return;
    this.lastWarningAt = now;
    this.logger.warn({ err }, 'rate limit store unavailable: requests are let through unlimited');
  }

  /** Deletes windows that ended over an hour ago (rows of keys no longer in use). */
  async clearExpired(): Promise<void> {
    if (this.closed) return;
    await this.pool.query(`DELETE FROM "${RATE_LIMIT_TABLE}" WHERE expire < $1`, [Date.now() - CLEAR_OLDER_THAN_MS]).catch((err) => this.warn(err));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.janitor);
    this.limiters.clear();
    await this.pool.end();
  }
}

/** The key's limits: its organization's settings where they say so, else the configured defaults. */
async function limitsFor(em: EntityManager, auth: Auth, deps: AppDeps): Promise<Record<Budget, number>> {
  let own: { requestsPerMinute: number | null; batchSubmitsPerMinute: number | null } = { requestsPerMinute: null, batchSubmitsPerMinute: null };
  try {
    own = await rateLimitsOf(em, auth.tenant.id);
  } catch (err) {
    deps.logger.warn({ err, tenantId: auth.tenant.id }, 'organization rate limits unreadable: using the defaults');
  }
  return {
    requests: own.requestsPerMinute ?? deps.config.rateLimitPerMinute,
    'batch-submit': own.batchSubmitsPerMinute ?? deps.config.batchSubmitLimitPerMinute,
  };
}

function headersOf(state: BudgetState): Record<string, string> {
  return {
    'RateLimit-Limit': String(state.limit),
    'RateLimit-Remaining': String(state.remaining),
    'RateLimit-Reset': String(state.resetSeconds),
  };
}

/**
 * Called once per authenticated request, after authentication: counts it against the key's
 * request budget (and a batch submit against the batch budget too), sets the `RateLimit-*` headers
 * (on a batch submit, those of the batch budget) and refuses with a 429 and `Retry-After` when a
 * budget is spent. A limit of 0 is no limit. Public routes have no key and are not limited.
 */
export async function enforceRateLimits(ctx: ParameterizedContext, spec: RouteSpec, deps: AppDeps, em: EntityManager, auth: Auth | undefined): Promise<void> {
  const store = deps.rateLimits;
  if (!store || !auth) return;
  const limits = await limitsFor(em, auth, deps);
  const budgets: Budget[] = spec.rateLimit === 'batch-submit' ? ['requests', 'batch-submit'] : ['requests'];
  for (const budget of budgets) {
    if (!(limits[budget] > 0)) continue;
    const state = await store.consume(budget, auth.apiKey.id, limits[budget]);
    if (!state) continue; // the store failed: fail open
    ctx.set(headersOf(state));
    if (!state.allowed) {
      const retryAfter = Math.max(1, state.resetSeconds);
      throw new HttpError(
        429,
        `Rate limit of ${state.limit} ${NOUN[budget]} per minute exceeded for this API key; retry in ${retryAfter} s`,
        undefined,
        { ...headersOf(state), 'Retry-After': String(retryAfter) },
      );
    }
  }
}
