// What the domain takes as a session write. The API's request schemas read into these types (their
// inferred types are assignable to them), so the domain never sees a cast request body.
import type { ClientStatus } from '../../entities';
import type { RawMeterValue } from '../analysis/types';

/** The session status a client may send. */
export type ClientSessionStatus = ClientStatus;

/** The optional fields a write may set: null clears the stored value, absent (or undefined) keeps it. */
export interface SessionFields {
  connectorId?: string | null;
  evseId?: string | null;
  metadata?: Record<string, unknown> | null;
  status?: ClientSessionStatus | null;
  stopReason?: string | null;
}

/** A session as a create request (POST /v1/sessions, or one session of a batch) carries it, validated. */
export interface SessionCreateInput extends SessionFields {
  sessionId: string;
  chargingStationId: string;
  meterValues: RawMeterValue[];
}

/**
 * One bit per optional session field, set when the client sent the field (null included): an
 * explicit null clears the stored value, an absent field keeps it. Stored in
 * `batch_items.present_fields`; the values are persisted, so never renumber them.
 */
export const PRESENT_FIELD_BITS = { connectorId: 1, evseId: 2, metadata: 4, status: 8, stopReason: 16 } as const;

export type OptionalSessionField = keyof typeof PRESENT_FIELD_BITS;

const OPTIONAL_FIELDS = Object.keys(PRESENT_FIELD_BITS) as OptionalSessionField[];

/** The `PRESENT_FIELD_BITS` of the optional fields `s` has: its key is there and its value is not `undefined`. */
export function presentFieldsMask(s: { [K in OptionalSessionField]?: unknown }): number {
  let mask = 0;
  for (const field of OPTIONAL_FIELDS) if (field in s && s[field] !== undefined) mask |= PRESENT_FIELD_BITS[field];
  return mask;
}

/**
 * Session ids a client cannot choose: `/v1/sessions/batch` is the batch endpoint, so a session of
 * that name could not be addressed as `/v1/sessions/{session_id}`. A create naming one is a 422.
 */
export const RESERVED_SESSION_IDS: readonly string[] = ['batch'];
