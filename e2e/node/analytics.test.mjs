// End-to-end: @slack/web-api's admin.analytics.getFile against a running
// backchannel server. Started by e2e/node_test.go (TestNodeAnalytics), which
// seeds a small enterprise and passes its tokens and days in the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebClient, ErrorCode } from '@slack/web-api';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through go test ./e2e`);
  return v;
};

const url = env('BC_AN_URL');
const client = (token) => new WebClient(token, { slackApiUrl: url, retryConfig: { retries: 0 } });
const admin = client(env('BC_AN_TOKEN_ADMIN'));
const day1 = env('BC_AN_DAY1');
const today = env('BC_AN_TODAY');
const members = JSON.parse(env('BC_AN_MEMBERS'));
const channels = JSON.parse(env('BC_AN_CHANNELS'));
const sorted = (xs) => [...xs].sort();

test('member file: every line arrives in file_data', async () => {
  const res = await admin.admin.analytics.getFile({ type: 'member', date: day1 });
  assert.ok(Array.isArray(res.file_data), 'the SDK recognised the gzip reply (content-type === application/gzip)');
  assert.deepEqual(sorted(res.file_data.map((l) => l.user_id)), sorted(members));
  for (const l of res.file_data) {
    assert.equal(l.date, day1);
    assert.equal(typeof l.is_active, 'boolean');
    assert.equal(typeof l.messages_posted_count, 'number');
  }
  const m1 = res.file_data.find((l) => l.user_id === env('BC_AN_MEMBER1'));
  assert.equal(m1.messages_posted_count, 3);
  assert.equal(m1.search_count, 2);
});

test('public channel file and metadata file', async () => {
  const res = await admin.admin.analytics.getFile({ type: 'public_channel', date: day1 });
  assert.deepEqual(sorted(res.file_data.map((l) => l.channel_id)), sorted(channels));
  for (const l of res.file_data) assert.equal(l.visibility, 'public');

  const meta = await admin.admin.analytics.getFile({ type: 'public_channel', metadata_only: true });
  assert.deepEqual(sorted(meta.file_data.map((l) => l.channel_id)), sorted(channels));
  for (const l of meta.file_data) {
    assert.equal(l.date, today);
    assert.equal(typeof l.name, 'string');
  }
});

// Each error reaches the caller as a WebAPIPlatformError carrying Slack's code.
const rejects = async (token, args, code) => {
  await assert.rejects(client(token).admin.analytics.getFile(args), (err) => {
    assert.equal(err.code, ErrorCode.PlatformError, `${code}: ${err.message}`);
    assert.equal(err.data.ok, false);
    assert.equal(err.data.error, code);
    return true;
  });
};

test('every error decodes', async () => {
  const a = env('BC_AN_TOKEN_ADMIN');
  await rejects(env('BC_AN_TOKEN_BOT'), { type: 'member', date: day1 }, 'not_allowed_token_type');
  await rejects(env('BC_AN_TOKEN_NOSCOPE'), { type: 'member', date: day1 }, 'missing_scope');
  await rejects(env('BC_AN_TOKEN_PLAIN'), { type: 'member', date: day1 }, 'not_an_admin');
  await rejects('xoxp-not-a-real-token', { type: 'member', date: day1 }, 'invalid_auth');
  await rejects(a, { date: day1 }, 'invalid_arguments');
  await rejects(a, { type: 'member' }, 'invalid_arguments');
  await rejects(a, { type: 'private_channel', date: day1 }, 'invalid_type');
  await rejects(a, { type: 'member', metadata_only: true }, 'metadata_not_available');
  await rejects(a, { type: 'public_channel', metadata_only: true, date: day1 }, 'metadata_only_does_not_support_date');
  await rejects(a, { type: 'member', date: '2023-02-29' }, 'invalid_date');
  await rejects(env('BC_AN_TOKEN_NOPC'), { type: 'public_channel', date: day1 }, 'user_cannot_manage_public_channels');
  await rejects(a, { type: 'member', date: today }, 'file_not_yet_available');
  await rejects(a, { type: 'public_channel', date: '2035-12-31' }, 'file_not_yet_available');
  await rejects(a, { type: 'member', date: '2019-12-31' }, 'data_not_available');
  await rejects(a, { type: 'member', date: env('BC_AN_EXPIRED') }, 'file_not_found');
});

// The organisation's policies, changed through the ingest endpoint: they
// apply to member files at once.
test('policy errors decode', async () => {
  const ingest = async (ev) => {
    const res = await fetch(env('BC_AN_BASE') + '/ingest/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${env('BC_AN_TOKEN_INGEST')}`, 'content-type': 'application/x-ndjson' },
      body: JSON.stringify(ev) + '\n',
    });
    assert.equal(res.status, 200, await res.text());
  };
  const ent = { type: 'enterprise', id: env('BC_AN_ENTERPRISE'), name: 'Acme Corp', analytics_start: '2020-01-01' };
  await ingest({ ...ent, member_analytics_enabled: false, hide_email_addresses: false });
  await rejects(env('BC_AN_TOKEN_ADMIN'), { type: 'member', date: day1 }, 'member_analytics_disabled');
  await ingest({ ...ent, member_analytics_enabled: true, hide_email_addresses: true });
  await rejects(env('BC_AN_TOKEN_ADMIN'), { type: 'member', date: day1 }, 'org_level_email_display_disabled');
  // Channel files are not affected by member policies.
  const res = await admin.admin.analytics.getFile({ type: 'public_channel', date: day1 });
  assert.equal(res.file_data.length, channels.length);
});
