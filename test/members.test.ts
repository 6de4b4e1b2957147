import assert from 'node:assert/strict';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';

const ADMIN_NEEDED = 'This endpoint needs the admin role (your API key acts as a member)';
const sqlExec = (q: string, p: unknown[] = []) => stack().orm.em.getConnection().execute(q, p);

type Tenant = Awaited<ReturnType<typeof newTenant>>;

async function invite(adminKey: string, email: string, role: 'admin' | 'member' = 'member') {
  const res = await call('POST', '/v1/members/invitations', { key: adminKey, body: { email, role } });
  assert.equal(res.status, 201, res.text);
  return res.body as { invitationId: string; email: string; role: string; invitedAt: string; expiresAt: string; invitedBy: string; token: string };
}

/** Invites and accepts: a new member with its first key. */
async function join(adminKey: string, email: string, role: 'admin' | 'member' = 'member') {
  const inv = await invite(adminKey, email, role);
  const res = await call('POST', '/v1/invitations/accept', { body: { token: inv.token, keyName: `${role}-key` } });
  assert.equal(res.status, 201, res.text);
  return { userId: res.body.member.userId as string, key: res.body.apiKey.key as string, keyId: res.body.apiKey.id as string };
}

describe('members, roles and invitations', () => {
  let t: Tenant;
  before(async () => {
    t = await newTenant('Members Test Co');
  });

  it('a new tenant has one member: its first admin, whose key is the one the CLI prints', async () => {
    const res = await call('GET', '/v1/members', { key: t.key });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.members.map((m: any) => [m.userId, m.email, m.role, m.status]), [[t.memberId, 'admin@members-test-co.example', 'admin', 'active']]);
    assert.match(res.body.members[0].joinedAt, /Z$/);
    const keys = await call('GET', '/v1/api-keys', { key: t.key });
    assert.deepEqual(keys.body.items.map((k: any) => [k.memberId, k.role]), [[t.memberId, 'admin']]);
  });

  it('invite → accept: the new member and its key, which acts with the invited role', async () => {
    const inv = await invite(t.key, 'Alice@Example.COM', 'member');
    assert.equal(inv.email, 'alice@example.com', 'emails are lower-cased');
    assert.equal(inv.role, 'member');
    assert.equal(inv.invitedBy, 'admin@members-test-co.example');
    assert.match(inv.token, /^evni_inv_[A-Za-z0-9_-]{43}$/);
    const days = (Date.parse(inv.expiresAt) - Date.parse(inv.invitedAt)) / 86_400_000;
    assert.equal(days, 7);
    const stored = await sqlExec('select * from invitations where id = ?', [inv.invitationId]);
    assert.ok(!JSON.stringify(stored).includes(inv.token), 'only the hash of the token is stored');

    const acc = await call('POST', '/v1/invitations/accept', { body: { token: inv.token, key_name: 'laptop' } });
    assert.equal(acc.status, 201, acc.text);
    assert.equal(acc.body.member.email, 'alice@example.com');
    assert.equal(acc.body.member.role, 'member');
    assert.equal(acc.body.member.status, 'active');
    assert.match(acc.body.apiKey.key, /^evni_[A-Za-z0-9_-]{43}$/);
    assert.equal(acc.body.apiKey.name, 'laptop');
    assert.equal(acc.body.apiKey.memberId, acc.body.member.userId);
    assert.equal(acc.body.apiKey.role, 'member');
    assert.equal(acc.body.apiKey.tenantId, t.tenantId);

    const key = acc.body.apiKey.key;
    assert.equal((await call('GET', '/v1/members', { key })).status, 200);
    assert.equal((await call('GET', '/v1/organization', { key })).status, 200);
    const forbidden = await call('POST', '/v1/members/invitations', { key, body: { email: 'mallory@example.com', role: 'admin' } });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.detail, ADMIN_NEEDED);
  });

  it('an accepted token cannot be used again (404 saying so)', async () => {
    const inv = await invite(t.key, 'once@example.com');
    assert.equal((await call('POST', '/v1/invitations/accept', { body: { token: inv.token } })).status, 201);
    const again = await call('POST', '/v1/invitations/accept', { body: { token: inv.token } });
    assert.equal(again.status, 404);
    assert.match(again.body.detail, /already been accepted/);
    const members = (await call('GET', '/v1/members', { key: t.key })).body.members.filter((m: any) => m.email === 'once@example.com');
    assert.equal(members.length, 1);
  });

  it('unknown and malformed tokens are 404s; accepting needs no API key but a token', async () => {
    const unknown = await call('POST', '/v1/invitations/accept', { body: { token: `evni_inv_${'A'.repeat(43)}` } });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.detail, /unknown/);
    assert.equal((await call('POST', '/v1/invitations/accept', { body: { token: 'nonsense' } })).status, 404);
    assert.equal((await call('POST', '/v1/invitations/accept', { body: {} })).status, 422);
  });

  it('an expired invitation cannot be accepted and is not listed', async () => {
    const inv = await invite(t.key, 'late@example.com');
    await sqlExec(`update invitations set expires_at = now() - interval '1 second' where id = ?`, [inv.invitationId]);
    const res = await call('POST', '/v1/invitations/accept', { body: { token: inv.token } });
    assert.equal(res.status, 404);
    assert.match(res.body.detail, /expired/);
    const list = await call('GET', '/v1/members', { key: t.key });
    assert.ok(!list.body.members.some((m: any) => m.email === 'late@example.com'));
    // A new invitation replaces it and works.
    const fresh = await invite(t.key, 'late@example.com');
    assert.equal((await call('POST', '/v1/invitations/accept', { body: { token: fresh.token } })).status, 201);
  });

  it('admins see pending invitations in the member list; members do not', async () => {
    const inv = await invite(t.key, 'pending@example.com', 'admin');
    const viewer = await join(t.key, 'viewer@example.com');
    const asAdmin = await call('GET', '/v1/members', { key: t.key });
    const entry = asAdmin.body.members.find((m: any) => m.invitationId === inv.invitationId);
    assert.deepEqual(entry, {
      userId: null,
      email: 'pending@example.com',
      role: 'admin',
      status: 'invited',
      joinedAt: null,
      invitedAt: inv.invitedAt,
      expiresAt: inv.expiresAt,
      invitedBy: 'admin@members-test-co.example',
      invitationId: inv.invitationId,
    });
    const asMember = await call('GET', '/v1/members', { key: viewer.key });
    assert.equal(asMember.status, 200);
    assert.ok(asMember.body.members.length >= 2);
    assert.ok(asMember.body.members.every((m: any) => m.status === 'active' && m.invitationId === null), asMember.text);
    assert.deepEqual(
      asMember.body.members.map((m: any) => m.userId),
      asAdmin.body.members.filter((m: any) => m.status === 'active').map((m: any) => m.userId),
    );
  });

  it('inviting an active member is a 409; re-inviting a pending email replaces the invitation', async () => {
    const dup = await call('POST', '/v1/members/invitations', { key: t.key, body: { email: 'ADMIN@members-test-co.example', role: 'member' } });
    assert.equal(dup.status, 409);
    assert.match(dup.body.detail, /already an active member/);
    const bad = await call('POST', '/v1/members/invitations', { key: t.key, body: { email: 'not-an-email', role: 'member' } });
    assert.equal(bad.status, 422);
    // Exactly what the documented pattern admits (a `format: email` without surrounding spaces).
    for (const email of [' alice@example.com', 'a..b@example.com', "a'@example.com", 'a@-x.example', 'a@example.c', `${'a'.repeat(65)}@example.com`]) {
      const res = await call('POST', '/v1/members/invitations', { key: t.key, body: { email, role: 'member' } });
      assert.equal(res.status, 422, email);
      assert.deepEqual(res.body.errors.map((e: any) => e.loc), [['body', 'email']], email);
    }
    const badRole = await call('POST', '/v1/members/invitations', { key: t.key, body: { email: 'x@example.com', role: 'owner' } });
    assert.equal(badRole.status, 422);

    const first = await invite(t.key, 'twice@example.com', 'member');
    const second = await invite(t.key, 'twice@example.com', 'admin');
    assert.notEqual(first.invitationId, second.invitationId);
    const listed = (await call('GET', '/v1/members', { key: t.key })).body.members.filter((m: any) => m.email === 'twice@example.com');
    assert.deepEqual(listed.map((m: any) => m.invitationId), [second.invitationId]);
    const old = await call('POST', '/v1/invitations/accept', { body: { token: first.token } });
    assert.equal(old.status, 404);
    assert.match(old.body.detail, /withdrawn or replaced/);
    const ok = await call('POST', '/v1/invitations/accept', { body: { token: second.token } });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.member.role, 'admin');
  });

  it('an admin withdraws an invitation: its token stops working; twice is harmless; an accepted one is a 409', async () => {
    const inv = await invite(t.key, 'withdrawn@example.com');
    const del = await call('DELETE', `/v1/members/invitations/${inv.invitationId}`, { key: t.key });
    assert.equal(del.status, 200, del.text);
    assert.equal(del.body.status, 'withdrawn');
    assert.ok(del.body.withdrawnAt);
    const again = await call('DELETE', `/v1/members/invitations/${inv.invitationId}`, { key: t.key });
    assert.equal(again.status, 200);
    assert.equal(again.body.withdrawnAt, del.body.withdrawnAt);
    const acc = await call('POST', '/v1/invitations/accept', { body: { token: inv.token } });
    assert.equal(acc.status, 404);
    assert.match(acc.body.detail, /withdrawn/);

    const used = await invite(t.key, 'used@example.com');
    await call('POST', '/v1/invitations/accept', { body: { token: used.token } });
    assert.equal((await call('DELETE', `/v1/members/invitations/${used.invitationId}`, { key: t.key })).status, 409);
    assert.equal((await call('DELETE', '/v1/members/invitations/not-a-uuid', { key: t.key })).status, 404);
  });

  it('removing a member revokes its keys at once (400), hides it from the list, and is idempotent', async () => {
    const bob = await join(t.key, 'bob@example.com');
    // A second key for bob, made by an admin.
    const extra = await call('POST', '/v1/api-keys', { key: t.key, body: { name: 'bob-ci', memberId: bob.userId } });
    assert.equal(extra.status, 200, extra.text);
    assert.equal(extra.body.memberId, bob.userId);
    assert.equal(extra.body.role, 'member');
    assert.equal((await call('GET', '/v1/api-keys', { key: bob.key })).status, 200);

    const del = await call('DELETE', `/v1/members/${bob.userId}`, { key: t.key });
    assert.equal(del.status, 200, del.text);
    assert.equal(del.body.userId, bob.userId);
    assert.equal(del.body.status, 'removed');
    assert.ok(del.body.removedAt);
    for (const key of [bob.key, extra.body.key]) {
      const res = await call('GET', '/v1/members', { key });
      assert.equal(res.status, 400);
      assert.equal(res.body.detail, 'API key has been revoked');
    }
    const keys = (await call('GET', '/v1/api-keys', { key: t.key })).body.items.filter((k: any) => k.memberId === bob.userId);
    assert.equal(keys.length, 2);
    assert.ok(keys.every((k: any) => k.revokedAt === del.body.removedAt), JSON.stringify(keys));
    const list = (await call('GET', '/v1/members', { key: t.key })).body.members;
    assert.ok(!list.some((m: any) => m.userId === bob.userId));
    const again = await call('DELETE', `/v1/members/${bob.userId}`, { key: t.key });
    assert.equal(again.status, 200);
    assert.equal(again.body.removedAt, del.body.removedAt);
    // The same email can be invited again and becomes a new member.
    const back = await join(t.key, 'bob@example.com');
    assert.notEqual(back.userId, bob.userId);
    assert.equal((await call('GET', '/v1/members', { key: back.key })).status, 200);
  });

  it('a role change applies to the member\'s existing keys at once', async () => {
    const carol = await join(t.key, 'carol@example.com');
    const put = () => call('PUT', '/v1/organization', { key: carol.key, body: { name: 'Members Test Co' } });
    assert.equal((await put()).status, 403);
    const up = await call('PATCH', `/v1/members/${carol.userId}`, { key: t.key, body: { role: 'admin' } });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.role, 'admin');
    assert.equal((await put()).status, 200);
    const listed = (await call('GET', '/v1/api-keys', { key: carol.key })).body.items.find((k: any) => k.id === carol.keyId);
    assert.equal(listed.role, 'admin', 'the key list shows the member\'s current role');
    const down = await call('PATCH', `/v1/members/${carol.userId}`, { key: t.key, body: { role: 'member' } });
    assert.equal(down.status, 200);
    const res = await put();
    assert.equal(res.status, 403);
    assert.equal(res.body.detail, ADMIN_NEEDED);
    assert.equal((await call('PATCH', `/v1/members/${carol.userId}`, { key: t.key, body: { role: 'owner' } })).status, 422);
  });

  it('the last admin can be neither removed nor demoted (409); with another admin, both work', async () => {
    const solo = await newTenant('Solo Admin Ltd');
    const rm = await call('DELETE', `/v1/members/${solo.memberId}`, { key: solo.key });
    assert.equal(rm.status, 409);
    assert.match(rm.body.detail, /last admin/);
    const demote = await call('PATCH', `/v1/members/${solo.memberId}`, { key: solo.key, body: { role: 'member' } });
    assert.equal(demote.status, 409);
    assert.match(demote.body.detail, /last admin/);
    assert.equal((await call('GET', '/v1/members', { key: solo.key })).body.members[0].role, 'admin');

    const second = await join(solo.key, 'second@solo.example', 'admin');
    const demoteFirst = await call('PATCH', `/v1/members/${solo.memberId}`, { key: second.key, body: { role: 'member' } });
    assert.equal(demoteFirst.status, 200);
    // Now `second` is the last admin: removing itself is refused, demoting itself too.
    assert.equal((await call('DELETE', `/v1/members/${second.userId}`, { key: second.key })).status, 409);
    assert.equal((await call('PATCH', `/v1/members/${second.userId}`, { key: second.key, body: { role: 'member' } })).status, 409);
    // Promote the first again; then `second` may remove itself, and its key stops working.
    assert.equal((await call('PATCH', `/v1/members/${solo.memberId}`, { key: second.key, body: { role: 'admin' } })).status, 200);
    const self = await call('DELETE', `/v1/members/${second.userId}`, { key: second.key });
    assert.equal(self.status, 200, self.text);
    assert.equal((await call('GET', '/v1/members', { key: second.key })).status, 400);
    assert.equal((await call('GET', '/v1/members', { key: solo.key })).status, 200);
  });

  it('two admins removing each other at the same time leave one admin', async () => {
    const duo = await newTenant('Duo Admins');
    const other = await join(duo.key, 'other@duo.example', 'admin');
    const [a, b] = await Promise.all([
      call('DELETE', `/v1/members/${other.userId}`, { key: duo.key }),
      call('DELETE', `/v1/members/${duo.memberId}`, { key: other.key }),
    ]);
    assert.deepEqual([a.status, b.status].sort(), [200, 409]);
    const admins = await sqlExec(`select count(*)::int as n from members where tenant_id = ? and role = 'admin' and status = 'active'`, [duo.tenantId]);
    assert.equal(admins[0].n, 1);
  });

  it('member-only endpoints: a member cannot remove, change roles or withdraw (403 naming the role)', async () => {
    const dave = await join(t.key, 'dave@example.com');
    const inv = await invite(t.key, 'someone@example.com');
    for (const [method, path, body] of [
      ['DELETE', `/v1/members/${t.memberId}`, undefined],
      ['PATCH', `/v1/members/${dave.userId}`, { role: 'admin' }],
      ['DELETE', `/v1/members/invitations/${inv.invitationId}`, undefined],
    ] as const) {
      const res = await call(method, path, { key: dave.key, body });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.detail, ADMIN_NEEDED);
    }
  });

  it("another tenant's member and invitation ids are 404s", async () => {
    const other = await newTenant('Elsewhere Inc');
    const theirInv = await invite(other.key, 'x@elsewhere.example');
    const theirMember = await join(other.key, 'y@elsewhere.example');
    for (const [method, path, body] of [
      ['DELETE', `/v1/members/${other.memberId}`, undefined],
      ['DELETE', `/v1/members/${theirMember.userId}`, undefined],
      ['PATCH', `/v1/members/${theirMember.userId}`, { role: 'admin' }],
      ['DELETE', `/v1/members/invitations/${theirInv.invitationId}`, undefined],
      ['DELETE', '/v1/members/not-a-uuid', undefined],
      ['PATCH', '/v1/members/not-a-uuid', { role: 'admin' }],
    ] as const) {
      const res = await call(method, path, { key: t.key, body });
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
      assert.ok(res.body.detail);
    }
    const key = await call('POST', '/v1/api-keys', { key: t.key, body: { name: 'x', memberId: theirMember.userId } });
    assert.equal(key.status, 404);
    // Untouched on their side.
    assert.equal((await call('GET', '/v1/members', { key: theirMember.key })).status, 200);
    const theirs = (await call('GET', '/v1/members', { key: other.key })).body.members;
    assert.ok(theirs.some((m: any) => m.invitationId === theirInv.invitationId));
    assert.ok(!(await call('GET', '/v1/members', { key: t.key })).body.members.some((m: any) => m.email.endsWith('elsewhere.example')));
  });

  it("POST /v1/api-keys: the caller's own member by default; a role is accepted only when it is the member's", async () => {
    const own = await call('POST', '/v1/api-keys', { key: t.key, body: { name: 'mine' } });
    assert.equal(own.status, 200, own.text);
    assert.equal(own.body.memberId, t.memberId);
    assert.equal(own.body.role, 'admin');
    const same = await call('POST', '/v1/api-keys', { key: t.key, body: { name: 'mine-2', role: 'admin' } });
    assert.equal(same.status, 200, same.text);
    const other = await call('POST', '/v1/api-keys', { key: t.key, body: { name: 'mine-3', role: 'member' } });
    assert.equal(other.status, 422);
    assert.match(other.body.detail, /act with their member's role/);
    assert.deepEqual(other.body.errors[0].loc, ['body', 'role']);
  });
});
