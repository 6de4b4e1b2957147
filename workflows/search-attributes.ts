// Custom search attributes, so that operators can find a tenant's or a station's workflows in the
// Temporal UI. Pure definitions: safe to import from workflow code.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TENANT_ID = defineSearchAttributeKey('EvniTenantId', SearchAttributeType.KEYWORD);
export const STATION_ID = defineSearchAttributeKey('EvniChargingStationId', SearchAttributeType.KEYWORD);
export const IS_ANOMALY = defineSearchAttributeKey('EvniIsAnomaly', SearchAttributeType.BOOL);
export const ANOMALY_SCORE = defineSearchAttributeKey('EvniAnomalyScore', SearchAttributeType.DOUBLE);

/** Webhook deliveries: which endpoint, which event type. */
export const WEBHOOK_ENDPOINT_ID = defineSearchAttributeKey('EvniWebhookEndpointId', SearchAttributeType.KEYWORD);
export const WEBHOOK_EVENT_TYPE = defineSearchAttributeKey('EvniWebhookEventType', SearchAttributeType.KEYWORD);

/** SHADE runs: the local day a run analysed (YYYY-MM-DD). */
export const SHADE_DAY = defineSearchAttributeKey('EvniShadeDay', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [TENANT_ID, STATION_ID, IS_ANOMALY, ANOMALY_SCORE, WEBHOOK_ENDPOINT_ID, WEBHOOK_EVENT_TYPE, SHADE_DAY];
