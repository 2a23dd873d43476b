// The edge built for Spin (edge/spin, wasm32-wasip2 component, WASI 0.2), served by `jco serve`
// in front of the real core that wasm-tests/run.sh starts. The build under test imports only
// standard WASI 0.2 (feature `spin` off): jco implements neither Spin's key-value store nor its
// variables, so state lives in the instance's memory and configuration in its environment. The
// handler and every edge decision are the same code as the production Spin build.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { Client, countingProxy, openWebSocket, required, sleep, startSpinEdge } from "../../lib/harness.js";

const SHORT_TOKEN_TTL_SECS = Number(process.env.STARLING_TEST_SHORT_TOKEN_TTL_SECS ?? "5");

const running = [];
let core, shortCore, edge, limitedEdge, shortEdge;

before(async () => {
  core = await countingProxy(required("STARLING_TEST_CORE_URL"));
  shortCore = await countingProxy(required("STARLING_TEST_SHORT_TOKENS_CORE_URL"));
  running.push(core, shortCore);
  edge = await startSpinEdge({ STARLING_CORE_URL: core.url, STARLING_REVOCATIONS_TTL_SECS: "1" });
  running.push(edge);
  limitedEdge = await startSpinEdge({ STARLING_CORE_URL: core.url, STARLING_RATE_REQUESTS: "5/60" });
  running.push(limitedEdge);
  shortEdge = await startSpinEdge({ STARLING_CORE_URL: shortCore.url });
  running.push(shortEdge);
});

after(async () => {
  for (const r of running.reverse()) {
    if (r.dispose) await r.dispose();
    else await r.close();
  }
});

function assertEdge401(reply) {
  assert.equal(reply.status, 401, JSON.stringify(reply.body));
  assert.equal(reply.body.error, "The access token is invalid");
  assert.match(reply.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
}

test("spin: a status posted through the component is stored by core, with the edge's rate-limit headers", async () => {
  const client = new Client(edge.url);
  const alice = await client.register("spin_writer_alice");
  const text = `through jco ${"é".repeat(300)}`;
  const reply = await client.request("POST", "/api/v1/statuses", { token: alice.token, json: { status: text } });
  const status = reply.expect(200);
  assert.equal(reply.headers.get("x-ratelimit-limit"), "300");
  assert.ok(reply.headers.get("x-ratelimit-remaining"));
  const stored = (await new Client(required("STARLING_TEST_CORE_URL")).get(`/api/v1/statuses/${status.id}`, alice.token)).expect(200);
  assert.equal(stored.account.id, alice.id);
  assert.match(stored.content, /through jco/);
  const posted = core.seen.filter((e) => e.method === "POST" && e.path === "/api/v1/statuses" && e.auth === `Bearer ${alice.token}`);
  assert.equal(posted.length, 1);
  assert.equal(posted[0].bodyBytes, Buffer.byteLength(JSON.stringify({ status: text })));
});

test("spin: an invalid token is refused with 401 by the edge without reaching core", async () => {
  const client = new Client(edge.url);
  await client.register("spin_keys_warmup");
  for (const token of ["stl1.nope.nope.nope", "not-a-token-at-all", "stl1.eyJhbGciOiJFZERTQSJ9.e30.AAAA"]) {
    assertEdge401(await client.get("/api/v1/accounts/verify_credentials", token));
    assertEdge401(await client.get("/api/v1/timelines/home", token));
    assert.equal(core.count("GET", "/api/v1/accounts/verify_credentials", token), 0);
    assert.equal(core.count("GET", "/api/v1/timelines/home", token), 0);
  }
});

test("spin: a burst past STARLING_RATE_REQUESTS=5/60 gets 429 with Retry-After and X-RateLimit-*", async () => {
  const client = new Client(limitedEdge.url);
  const erin = await client.register("spin_bursty_erin");
  const replies = [];
  for (let i = 0; i < 8; i++) replies.push(await client.get("/api/v1/accounts/verify_credentials", erin.token));
  const statuses = replies.map((r) => r.status);
  assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429, 429, 429], `statuses: ${statuses}`);
  for (const r of replies.slice(4)) {
    assert.equal(r.body.error, "Too many requests");
    const retryAfter = Number(r.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    assert.equal(r.headers.get("x-ratelimit-limit"), "5");
    assert.equal(r.headers.get("x-ratelimit-remaining"), "0");
  }
  assert.equal(core.count("GET", "/api/v1/accounts/verify_credentials", erin.token), 5, "only the allowed requests reached core");
});

test("spin: the home timeline is a cache miss, then a hit without asking core", async () => {
  const client = new Client(edge.url);
  const frank = await client.register("spin_cached_frank");
  (await client.post("/api/v1/statuses", frank.token, { status: "my own post" })).expect(200);
  const first = await client.get("/api/v1/timelines/home", frank.token);
  assert.equal(first.headers.get("x-starling-cache"), "miss");
  const second = await client.get("/api/v1/timelines/home", frank.token);
  assert.equal(second.headers.get("x-starling-cache"), "hit");
  assert.deepEqual(second.expect(200), first.expect(200));
  assert.equal(core.count("GET", "/api/v1/timelines/home", frank.token), 1);
});

test("spin: an expired token is refused with 401 by the edge without reaching core", async () => {
  const client = new Client(shortEdge.url);
  const carol = await client.register("spin_expiring_carol");
  assert.equal(shortCore.count("GET", "/api/v1/accounts/verify_credentials", carol.token), 1);
  await sleep((SHORT_TOKEN_TTL_SECS + 1.2) * 1000);
  assertEdge401(await client.get("/api/v1/accounts/verify_credentials", carol.token));
  assert.equal(shortCore.count("GET", "/api/v1/accounts/verify_credentials", carol.token), 1, "the expired token never reached core");
});

test("spin: a revoked token is refused with 401 by the edge within the revocation-list TTL, without reaching core", async () => {
  const client = new Client(edge.url);
  const dave = await client.register("spin_revoked_dave");
  (await client.post("/api/v1/statuses", dave.token, { status: "before revocation" })).expect(200);
  (await client.post("/oauth/revoke", null, { client_id: dave.clientId, client_secret: dave.clientSecret, token: dave.token })).expect(200);
  const before = core.count("GET", "/api/v1/accounts/verify_credentials", dave.token);
  await sleep(1200); // STARLING_REVOCATIONS_TTL_SECS=1
  assertEdge401(await client.get("/api/v1/accounts/verify_credentials", dave.token));
  assert.equal(core.count("GET", "/api/v1/accounts/verify_credentials", dave.token), before, "the revoked token never reached core");
});

test("spin: a WebSocket upgrade is refused clearly (WASI-HTTP has no upgrade), naming the streaming URL", async () => {
  const streamingEdge = await startSpinEdge({ STARLING_CORE_URL: core.url, STARLING_STREAMING_URL: "ws://streaming.example.test" });
  running.push(streamingEdge);
  const client = new Client(streamingEdge.url);
  const alice = await client.register("spin_ws_alice");
  const before = core.seen.length;
  const refused = await openWebSocket(`${streamingEdge.url}/api/v1/streaming?stream=user&access_token=${alice.token}`);
  assert.equal(refused.status, 501, refused.body);
  assert.match(JSON.parse(refused.body).error, /WebSocket streaming is not available through this edge.*ws:\/\/streaming\.example\.test/);
  assert.equal(refused.headers["access-control-allow-origin"], "*");
  assert.equal(core.seen.length, before, "the upgrade did not reach core");
  // SSE streams still pass through.
  const sse = await fetch(`${streamingEdge.url}/api/v1/streaming/health`);
  assert.equal(sse.status, 200);
});

test("spin: responses the edge builds carry CORS headers as core's do; preflights are answered", async () => {
  const client = new Client(limitedEdge.url);
  const forwarded = await client.get("/api/v1/instance");
  const exposed = forwarded.headers.get("access-control-expose-headers");
  assert.ok(exposed);
  const bad = await client.get("/api/v1/timelines/home", "stl1.k1.garbage.sig");
  assert.equal(bad.status, 401);
  assert.equal(bad.headers.get("access-control-allow-origin"), "*");
  assert.equal(bad.headers.get("access-control-expose-headers"), exposed);
  let limited;
  for (let i = 0; i < 10 && limited?.status !== 429; i++) limited = await client.get("/api/v1/instance");
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("access-control-allow-origin"), "*");
  const before = core.seen.length;
  const preflight = await fetch(`${limitedEdge.url}/api/v1/statuses`, {
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-method": "POST" },
  });
  assert.equal(preflight.status, 200);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
  assert.equal(preflight.headers.get("access-control-allow-methods"), "*");
  assert.equal(core.seen.length, before, "the preflight did not reach core");
});

test("spin: the client address and the core secret travel to core", async () => {
  const secretEdge = await startSpinEdge({ STARLING_CORE_URL: core.url, STARLING_CORE_SECRET: "wasm-secret" });
  running.push(secretEdge);
  // Spin sets `spin-client-addr` (replacing any a client sent); jco does not, so the test does.
  (await new Client(secretEdge.url).request("GET", "/api/v1/instance", { headers: { "spin-client-addr": "198.51.100.77:4242", "x-forwarded-for": "6.6.6.6" } })).expect(200);
  const received = core.seenHeaders.at(-1);
  assert.equal(core.seen.at(-1).path, "/api/v1/instance");
  assert.equal(received["x-forwarded-for"], "198.51.100.77", "the edge's address replaces the client's claim");
  assert.equal(received["x-starling-edge-secret"], "wasm-secret");
});
