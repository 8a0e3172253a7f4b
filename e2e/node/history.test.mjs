// End-to-end: the official @slack/web-api client against a running
// backchannel server. Started by e2e/node_test.go (go test ./...), which
// passes the server's address, tokens and expectations in the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { WebClient, ErrorCode } from '@slack/web-api';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through go test ./e2e`);
  return v;
};

const url = env('BC_URL');
const client = (token, opts = {}) =>
  new WebClient(token, { slackApiUrl: url, retryConfig: { retries: 0 }, ...opts });

test('paginate walks a whole channel: every message once, newest first', async () => {
  const want = JSON.parse(readFileSync(env('BC_EXPECTED_FILE'), 'utf8'));
  const web = client(env('BC_TOKEN_MEMBER'));
  const got = [];
  let pages = 0;
  for await (const page of web.paginate('conversations.history', { channel: env('BC_CHANNEL_BIG'), limit: 200 })) {
    pages++;
    assert.equal(page.ok, true);
    assert.equal(typeof page.pin_count, 'number');
    const more = Boolean(page.response_metadata && page.response_metadata.next_cursor);
    assert.equal(page.has_more, more, 'has_more must be true exactly when a next_cursor is given');
    for (const m of page.messages) got.push(m.ts);
  }
  assert.equal(got.length, want.length);
  assert.deepEqual(got, want);
  assert.equal(pages, Math.ceil(want.length / 200));
});

test('a page carries Slack\'s fields and cursor format', async () => {
  const web = client(env('BC_TOKEN_MEMBER'));
  const res = await web.conversations.history({ channel: env('BC_CHANNEL_BIG'), limit: 3 });
  assert.equal(res.ok, true);
  assert.equal(res.messages.length, 3);
  assert.equal(res.has_more, true);
  assert.equal(res.channel_actions_ts, null);
  assert.equal(res.channel_actions_count, 0);
  const cursor = Buffer.from(res.response_metadata.next_cursor, 'base64').toString();
  assert.match(cursor, /^next_ts:\d{16}$/);
  for (const m of res.messages) {
    assert.equal(m.type, 'message');
    assert.match(m.ts, /^\d{10}\.\d{6}$/);
  }
  // The header SDKs read.
  assert.ok(res.response_metadata.scopes.includes('channels:history'));
  assert.ok(res.response_metadata.acceptedScopes.includes('channels:history'));
});

test('single-message fetch with latest + inclusive + limit=1', async () => {
  const want = JSON.parse(readFileSync(env('BC_EXPECTED_FILE'), 'utf8'));
  const web = client(env('BC_TOKEN_MEMBER'));
  const ts = want[Math.floor(want.length / 2)];
  const res = await web.conversations.history({ channel: env('BC_CHANNEL_BIG'), latest: ts, inclusive: true, limit: 1 });
  assert.equal(res.messages.length, 1);
  assert.equal(res.messages[0].ts, ts);
  assert.equal(res.latest, ts);
});

test('a reacted, edited message carries its reactions after its edit', async () => {
  const web = client(env('BC_TOKEN_MEMBER'));
  const ts = env('BC_TS_REACTED');
  const res = await web.conversations.history({ channel: env('BC_CHANNEL_BIG'), latest: ts, inclusive: true, limit: 1 });
  const [m] = res.messages;
  assert.equal(m.ts, ts);
  assert.deepEqual(m.edited, { user: env('BC_MEMBER_ID'), ts: m.edited.ts });
  assert.deepEqual(m.reactions, [{ name: 'thumbsup', users: [env('BC_MEMBER_ID'), env('BC_OTHER_ID')], count: 2 }]);
  const keys = Object.keys(m);
  assert.ok(keys.indexOf('edited') < keys.indexOf('reactions'), `field order ${keys}`);
});

test('errors arrive as WebAPIPlatformError with Slack\'s codes', async () => {
  const web = client(env('BC_TOKEN_MEMBER'));
  await assert.rejects(web.conversations.history({ channel: 'C0DOESNOTEXIST' }), (err) => {
    assert.equal(err.code, ErrorCode.PlatformError);
    assert.equal(err.data.ok, false);
    assert.equal(err.data.error, 'channel_not_found');
    return true;
  });
  await assert.rejects(web.conversations.history({ channel: env('BC_CHANNEL_BIG'), cursor: 'bm9wZQ==' }), (err) => {
    assert.equal(err.data.error, 'invalid_cursor');
    return true;
  });
  await assert.rejects(client('xoxp-not-a-real-token').conversations.history({ channel: env('BC_CHANNEL_BIG') }), (err) => {
    assert.equal(err.data.error, 'invalid_auth');
    return true;
  });
  await assert.rejects(client(env('BC_TOKEN_NOSCOPE')).conversations.history({ channel: env('BC_CHANNEL_BIG') }), (err) => {
    assert.equal(err.data.error, 'missing_scope');
    assert.equal(typeof err.data.needed, 'string');
    assert.equal(typeof err.data.provided, 'string');
    return true;
  });
  await assert.rejects(client(env('BC_TOKEN_BOT')).conversations.history({ channel: env('BC_CHANNEL_NOBOT') }), (err) => {
    assert.equal(err.data.error, 'not_in_channel');
    return true;
  });
});

test('auth.test answers for the token', async () => {
  const res = await client(env('BC_TOKEN_MEMBER')).auth.test();
  assert.equal(res.ok, true);
  assert.equal(res.user_id, env('BC_MEMBER_ID'));
});

test('over the rate limit: 429 with Retry-After, surfaced by rejectRateLimitedCalls', async () => {
  const web = new WebClient(env('BC_RL_TOKEN'), {
    slackApiUrl: env('BC_RL_URL'), retryConfig: { retries: 0 }, rejectRateLimitedCalls: true,
  });
  const limit = Number(env('BC_RL_LIMIT'));
  for (let i = 0; i < limit; i++) {
    const res = await web.conversations.history({ channel: env('BC_CHANNEL_BIG'), limit: 1 });
    assert.equal(res.ok, true);
  }
  await assert.rejects(web.conversations.history({ channel: env('BC_CHANNEL_BIG'), limit: 1 }), (err) => {
    assert.equal(err.code, ErrorCode.RateLimitedError);
    assert.ok(Number.isInteger(err.retryAfter) && err.retryAfter >= 1, `retryAfter ${err.retryAfter}`);
    return true;
  });
});
