// End-to-end: admin.analytics.messages.activity through @slack/web-api
// against a running backchannel server. No SDK binds this method, so callers
// use apiCall (which POSTs a form); GET is a plain fetch with a Bearer token.
// Started by e2e/activity_test.go (TestNodeActivity), which seeds the
// activity and passes the expected entries in the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebClient, ErrorCode } from '@slack/web-api';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through go test ./e2e`);
  return v;
};

const method = 'admin.analytics.messages.activity';
const url = env('BC_ACT_URL');
const channel = env('BC_ACT_CHANNEL');
const visible = JSON.parse(env('BC_ACT_VISIBLE'));
const expected = JSON.parse(env('BC_ACT_EXPECTED'));
const client = (token) => new WebClient(token, { slackApiUrl: url, retryConfig: { retries: 0 } });
const admin = client(env('BC_ACT_TOKEN_ADMIN'));

// Each entry equals the hand-computed one, keys in the seed's order.
const checkEntries = (entries) => {
  for (const e of entries) {
    const want = expected[e.timestamp];
    assert.ok(want, `unexpected message ${e.timestamp}`);
    assert.deepEqual(e, want);
    assert.deepEqual(Object.keys(e), Object.keys(want));
    assert.deepEqual(Object.keys(e.unique_views_client), Object.keys(want.unique_views_client));
  }
};

test('apiCall (POST form): counts of every message in the default window', async () => {
  const res = await admin.apiCall(method, { channel, limit: 100 });
  assert.equal(res.ok, true);
  assert.deepEqual(res.message_activities.map((e) => e.timestamp), visible);
  checkEntries(res.message_activities);
  assert.equal(res.response_metadata?.next_cursor, undefined, 'no next_cursor on the last page');
  assert.ok(res.response_metadata.scopes.includes('admin.analytics:read'));
  assert.ok(res.response_metadata.acceptedScopes.includes('admin.analytics:read'));
});

test('apiCall with cursors by hand: every message once, newest first', async () => {
  const got = [];
  let cursor;
  for (let page = 0; page < 20; page++) {
    const res = await admin.apiCall(method, { channel, limit: 3, ...(cursor ? { cursor } : {}) });
    checkEntries(res.message_activities);
    got.push(...res.message_activities.map((e) => e.timestamp));
    cursor = res.response_metadata?.next_cursor;
    if (!cursor) break;
  }
  assert.deepEqual(got, visible);
});

test('paginate walks the channel', async () => {
  const got = [];
  for await (const page of admin.paginate(method, { channel, limit: 2 })) {
    assert.equal(page.ok, true);
    assert.ok(page.message_activities.length <= 2);
    got.push(...page.message_activities.map((e) => e.timestamp));
  }
  assert.deepEqual(got, visible);
});

test('GET with a query string answers as POST does, and its cursor works', async () => {
  const get = async (args) => {
    const res = await fetch(`${url}${method}?${new URLSearchParams(args)}`, {
      headers: { authorization: `Bearer ${env('BC_ACT_TOKEN_ADMIN')}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    return res.json();
  };
  const page1 = await get({ channel, limit: '4' });
  const post = await admin.apiCall(method, { channel, limit: 4 });
  assert.deepEqual(page1.message_activities, post.message_activities);
  assert.equal(page1.response_metadata.next_cursor, post.response_metadata.next_cursor);
  const page2 = await get({ channel, limit: '4', cursor: page1.response_metadata.next_cursor });
  assert.deepEqual(page2.message_activities.map((e) => e.timestamp), visible.slice(4, 8));
  checkEntries(page2.message_activities);
});

// Each error reaches the caller as a WebAPIPlatformError carrying Slack's code.
const rejects = async (token, args, code) => {
  await assert.rejects(client(token).apiCall(method, args), (err) => {
    assert.equal(err.code, ErrorCode.PlatformError, `${code}: ${err.message}`);
    assert.equal(err.data.ok, false);
    assert.equal(err.data.error, code);
    return true;
  });
};

test('every error decodes', async () => {
  const a = env('BC_ACT_TOKEN_ADMIN');
  await rejects(env('BC_ACT_TOKEN_BOT'), { channel }, 'not_allowed_token_type');
  await rejects(env('BC_ACT_TOKEN_NOSCOPE'), { channel }, 'missing_scope');
  await rejects(env('BC_ACT_TOKEN_PLAIN'), { channel }, 'not_an_admin');
  await rejects('xoxp-not-a-real-token', { channel }, 'invalid_auth');
  await rejects(a, {}, 'invalid_arguments');
  await rejects(a, { channel, latest_ts: 'now' }, 'invalid_arguments');
  await rejects(a, { channel, oldest_ts: visible[0], latest_ts: visible[1] }, 'invalid_arguments');
  await rejects(a, { channel, cursor: 'abcd' }, 'invalid_cursor');
  await rejects(a, { channel: env('BC_ACT_PRIVATE') }, 'channel_not_found');
  await rejects(a, { channel: 'C0NOSUCH01' }, 'channel_not_found');
});
