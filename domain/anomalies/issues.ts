// Triage of an anomaly issue by a member: its status workflow, its assignee, and the history of
// every change (the detector's changes are written by domain/anomalies/detections.ts).
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql';
import type { IssueActor, IssueField, ResolvedBy } from '../../entities';
import { conflict, invalid, notFound } from '../errors';
import { isUuid } from '../ids';
import { normaliseEmail } from '../members';
import { refreshSessionRollups } from './detections';
import { toDate, type IssueStatus } from './queries';

/**
 * Which status may follow which. An active issue (OPEN, IN_PROGRESS) may move to any status; a
 * closed one (RESOLVED, FALSE_POSITIVE) only reopens (OPEN or IN_PROGRESS): a resolved issue that
 * turns out not to be real is reopened and then marked, so its history shows both decisions.
 * Setting the status an issue already has changes nothing.
 */
const NEXT: Record<IssueStatus, IssueStatus[]> = {
  OPEN: ['IN_PROGRESS', 'RESOLVED', 'FALSE_POSITIVE'],
  IN_PROGRESS: ['OPEN', 'RESOLVED', 'FALSE_POSITIVE'],
  RESOLVED: ['OPEN', 'IN_PROGRESS'],
  FALSE_POSITIVE: ['OPEN', 'IN_PROGRESS'],
};

export const allowedTransition = (from: IssueStatus, to: IssueStatus) => from === to || NEXT[from].includes(to);

export interface IssueHistoryEntry {
  at: Date;
  actor: IssueActor;
  actorEmail: string | null;
  field: IssueField;
  from: string | null;
  to: string | null;
}

export interface IssueUpdate {
  status: IssueStatus;
  /** An active member's email, null to unassign; undefined keeps the assignee. */
  assignedTo?: string | null;
}

export interface IssueState {
  id: string;
  statusName: IssueStatus;
  assignedTo: string | null;
  resolvedBy: ResolvedBy | null;
  updatedAt: Date;
  history: IssueHistoryEntry[];
}

/**
 * Applies a member's change to an issue of the tenant, in one transaction with its history rows.
 * not_found for an issue of another tenant (or none); invalid for an assignee who is not an active
 * member of the tenant; conflict for a transition the workflow does not allow.
 */
export async function updateIssue(em: EntityManager, tenantId: string, actor: { memberId: string; email: string }, issueId: string, change: IssueUpdate): Promise<IssueState> {
  if (!isUuid(issueId)) throw notFound('Issue');
  await em.transactional(async (tem) => {
    // The session's row first: an analysis holds it (for update) while it changes the session's
    // issues, so one in flight commits before this change reads them, and the rollup refreshed
    // below counts what it stored. Session, then issue: the order an analysis locks them in.
    await sql(
      tem,
      `select 1 from charging_sessions s
        where s.tenant_id = ? and s.id = (select i.session_id from anomaly_issues i where i.tenant_id = ? and i.id = ?) for share of s`,
      [tenantId, tenantId, issueId],
    );
    const [issue] = await sql(
      tem,
      `select i.id, i.session_id, i.status, i.assignee_member_id, m.email as assignee_email
         from anomaly_issues i left join members m on m.id = i.assignee_member_id
        where i.tenant_id = ? and i.id = ? for update of i`,
      [tenantId, issueId],
    );
    if (!issue) throw notFound('Issue');
    const from = issue.status as IssueStatus;
    if (!allowedTransition(from, change.status)) {
      throw conflict(`An issue in status ${from} cannot move to ${change.status}: reopen it first (OPEN or IN_PROGRESS)`);
    }
    let assignee: { id: string | null; email: string | null } = { id: issue.assignee_member_id, email: issue.assignee_email };
    if (change.assignedTo !== undefined) {
      if (change.assignedTo === null) assignee = { id: null, email: null };
      else {
        const email = normaliseEmail(change.assignedTo);
        const [member] = await sql(tem, `select id, email from members where tenant_id = ? and email = ? and status = 'active'`, [tenantId, email]);
        if (!member) throw invalid(`assignedTo: ${change.assignedTo} is not a member of this organization`, [{ loc: ['body', 'assignedTo'], msg: 'not a member of this organization' }]);
        assignee = { id: member.id, email: member.email };
      }
    }
    const events: { field: IssueField; from: string | null; to: string | null }[] = [];
    if (from !== change.status) events.push({ field: 'status', from, to: change.status });
    if (assignee.id !== issue.assignee_member_id) events.push({ field: 'assignee', from: issue.assignee_email, to: assignee.email });
    if (events.length === 0) return;
    await sql(
      tem,
      `update anomaly_issues set status = ?, resolved_by = case when ? = 'RESOLVED' then case when status = 'RESOLVED' then resolved_by else 'member' end end,
              assignee_member_id = ?, updated_at = now()
        where id = ? and tenant_id = ?`,
      [change.status, change.status, assignee.id, issueId, tenantId],
    );
    await sql(
      tem,
      `insert into anomaly_issue_events (id, tenant_id, issue_id, actor, actor_member_id, actor_email, field, from_value, to_value, at)
       select gen_random_uuid(), ?, ?, 'member', ?, ?, e.field, e.from_value, e.to_value, now()
         from jsonb_to_recordset(?::jsonb) as e(field text, from_value text, to_value text)`,
      [tenantId, issueId, actor.memberId, actor.email, JSON.stringify(events.map((e) => ({ field: e.field, from_value: e.from, to_value: e.to })))],
    );
    await refreshSessionRollups(tem, tenantId, [issue.session_id]);
  });
  return issueState(em, tenantId, issueId);
}

/** An issue as the API answers it, with its history. */
export async function issueState(em: EntityManager, tenantId: string, issueId: string): Promise<IssueState> {
  const [row] = await sql(
    em,
    `select i.id, i.status, i.resolved_by, i.updated_at, m.email as assignee_email
       from anomaly_issues i left join members m on m.id = i.assignee_member_id where i.tenant_id = ? and i.id = ?`,
    [tenantId, issueId],
  );
  if (!row) throw notFound('Issue');
  return { id: row.id, statusName: row.status, assignedTo: row.assignee_email, resolvedBy: row.resolved_by, updatedAt: toDate(row.updated_at), history: await historyOf(em, tenantId, issueId) };
}

/** Every change of an issue, oldest first. */
export async function historyOf(em: EntityManager, tenantId: string, issueId: string): Promise<IssueHistoryEntry[]> {
  const rows = await sql(
    em,
    `select at, actor, actor_email, field, from_value, to_value from anomaly_issue_events where tenant_id = ? and issue_id = ? order by at, id`,
    [tenantId, issueId],
  );
  return rows.map((r) => ({ at: toDate(r.at), actor: r.actor, actorEmail: r.actor_email, field: r.field, from: r.from_value, to: r.to_value }));
}
