// Anomaly workspace endpoints: HTTP only. Reads in domain/anomalies/queries.ts, triage in
// domain/anomalies/issues.ts. `/v1/anomalies/connectors` and `/v1/anomalies/sessions` are literal
// paths, listed before the parameterised detail path.
import { anomalyDetail, listAnomalies, listAnomalyConnectors, listAnomalySessions } from '../../domain/anomalies/queries';
import { updateIssue } from '../../domain/anomalies/issues';
import { defineRoute } from '../route';
import { ErrorSchema, pageOf, pageOfQuery, toPage } from '../schemas/common';
import {
  AnomalyConnectorOut,
  AnomalyConnectorsQuery,
  AnomalyDetailOut,
  AnomalyItemOut,
  AnomalyListQuery,
  AnomalySessionOut,
  AnomalySessionsQuery,
  DetailParams,
  IssueIdParams,
  IssueOut,
  IssueUpdateIn,
  withIsoDates,
} from '../schemas/anomalies';


export const anomalyRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/anomalies',
    summary: 'List anomalies',
    description:
      'One anomaly per session and category, each with its issue. Newest occurrence first, or by score with sortByScore. All filters combine; ' +
      'array parameters may be sent once or repeated. Extensions: firstDetectedAt, lastDetectedAt, isRecurring, isIncident, issues[].resolvedBy.',
    tags: ['Anomalies'],
    query: AnomalyListQuery,
    responses: { 200: { description: 'A page of anomalies', schema: pageOf(AnomalyItemOut, 'AnomalyPage') } },
    handler: async ({ em, query, auth }) => {
      const page = pageOfQuery(query);
      const { items, total } = await listAnomalies(em, auth.tenant.id, { ...query, ...page }, auth.member.id);
      return { body: toPage(withIsoDates(items) as unknown[], total, page) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/anomalies/connectors',
    summary: 'List anomaly connectors',
    description: 'Connectors with anomalies, aggregated by connector (station and connector id), by anomaly count.',
    tags: ['Anomalies'],
    query: AnomalyConnectorsQuery,
    responses: { 200: { description: 'A page of connectors', schema: pageOf(AnomalyConnectorOut, 'AnomalyConnectorPage') } },
    handler: async ({ em, query, auth }) => {
      const page = pageOfQuery(query);
      const { items, total } = await listAnomalyConnectors(em, auth.tenant.id, { ...query, ...page });
      return { body: toPage(withIsoDates(items) as unknown[], total, page) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/anomalies/sessions',
    summary: 'List anomaly sessions',
    description: 'Sessions with anomalies, aggregated by session, by highest score (default) or by count.',
    tags: ['Anomalies'],
    query: AnomalySessionsQuery,
    responses: { 200: { description: 'A page of sessions', schema: pageOf(AnomalySessionOut, 'AnomalySessionPage') } },
    handler: async ({ em, query, auth }) => {
      const page = pageOfQuery(query);
      const { items, total } = await listAnomalySessions(em, auth.tenant.id, { ...query, ...page });
      return { body: toPage(withIsoDates(items) as unknown[], total, page) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/anomalies/sessions/{session_id}/categories/{category_id}/details',
    summary: 'Get anomaly detail',
    description:
      "One session's anomaly of one category: its readings (energy, SoC, power), the risk score over the analysis window, the anomaly's periods, " +
      "the category's description and its issue with the issue's history (extension).",
    tags: ['Anomalies'],
    params: DetailParams,
    responses: {
      200: { description: 'The anomaly', schema: AnomalyDetailOut },
      404: { description: 'No such session, or no anomaly of this category on it', schema: ErrorSchema },
    },
    handler: async ({ em, params, auth }) => ({ body: withIsoDates(await anomalyDetail(em, auth.tenant.id, params.session_id, params.category_id)) }),
  }),
  defineRoute({
    method: 'put',
    path: '/v1/anomalies/issues/{issue_id}',
    summary: 'Update issue',
    description:
      'Sets the status and/or the assignee of an issue. OPEN → IN_PROGRESS → RESOLVED, or FALSE_POSITIVE; RESOLVED and FALSE_POSITIVE reopen to OPEN or IN_PROGRESS. ' +
      'Every change is recorded in the issue\'s history (who, what, when). Extensions in the answer: resolvedBy, updatedAt, history.',
    tags: ['Anomalies'],
    params: IssueIdParams,
    body: IssueUpdateIn,
    responses: {
      200: { description: 'The issue as updated', schema: IssueOut },
      404: { description: 'No such issue for this tenant', schema: ErrorSchema },
      409: { description: 'A transition the workflow does not allow', schema: ErrorSchema },
      422: { description: 'Invalid body, or an assignee who is not a member of this organization', schema: ErrorSchema },
    },
    handler: async ({ em, params, body, auth }) => {
      const state = await updateIssue(em, auth.tenant.id, { memberId: auth.member.id, email: auth.member.email }, params.issue_id, {
        status: body.status,
        assignedTo: body.assignedTo,
      });
      return { body: withIsoDates(state) };
    },
  }),
];
