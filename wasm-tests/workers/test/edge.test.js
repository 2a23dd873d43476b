// The edge built for Cloudflare Workers (edge/workers), running in workerd via miniflare, in front
// of real core processes that wasm-tests/workers/run.sh starts. Every worker reaches its core
// through a counting proxy, so "refused without reaching core" is checked, not assumed.

import { test, before, after } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import assert from "node:assert/strict";

import { Client, countingProxy, openWebSocket, required, sleep, startEdge } from "../../lib/harness.js";

/** The main worker's cache bound (ms): short, so expiry is quick to observe. */
const HOME_TTL_MS = 2000;
/** Core's access-token lifetime on the second core (run.sh sets it). */
const SHORT_TOKEN_TTL_SECS = Number(process.env.STARLING_TEST_SHORT_TOKEN_TTL_SECS ?? "5");

const running = [];
let core, shortCore, edge, limitedEdge, shortEdge;
/** moto's S3 (run.sh starts it) and the bucket the edge presigns uploads into. */
const S3_BUCKET = "starling-media";

async function edgeInFront(proxy, vars = {}) {
  const worker = await startEdge({ STARLING_CORE_URL: proxy.url, ...vars });
  running.push(worker);
  return worker;
}

before(async () => {
  core = await countingProxy(required("STARLING_TEST_CORE_URL"));
  shortCore = await countingProxy(required("STARLING_TEST_SHORT_TOKENS_CORE_URL"));
  running.push(core, shortCore);
  // A revocation list cached for 1 s (below KV's 60 s minimum: the shim keeps it exact).
  edge = await edgeInFront(core, {
    STARLING_HOME_CACHE_TTL_MS: String(HOME_TTL_MS),
    STARLING_REVOCATIONS_TTL_SECS: "1",
    STARLING_S3_BUCKET: S3_BUCKET,
    STARLING_S3_ENDPOINT: required("STARLING_TEST_S3_URL"),
    STARLING_S3_REGION: "us-east-1",
    STARLING_S3_ACCESS_KEY_ID: "testing",
    STARLING_S3_SECRET_ACCESS_KEY: "testing",
  });
  limitedEdge = await edgeInFront(core, { STARLING_RATE_REQUESTS: "5/60" });
  shortEdge = await edgeInFront(shortCore);
});

after(async () => {
  for (const r of running.reverse()) {
    if (r.dispose) await r.dispose();
    else await r.close();
  }
});

const INVALID_TOKEN_MESSAGE = "The access token is invalid";

/** Asserts a 401 produced by the edge (its envelope and challenge). */
function assertEdge401(reply) {
  assert.equal(reply.status, 401, JSON.stringify(reply.body));
  assert.equal(reply.body.error, INVALID_TOKEN_MESSAGE);
  assert.match(reply.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
}

test("workers: a status posted through the worker is stored by core, with the edge's rate-limit headers added", async () => {
  const client = new Client(edge.url);
  const alice = await client.register("writer_alice");
  const text = `through workerd ${"é".repeat(300)}`;
  const reply = await client.request("POST", "/api/v1/statuses", { token: alice.token, json: { status: text }, headers: { "idempotency-key": "k1" } });
  const status = reply.expect(200);
  assert.equal(reply.headers.get("x-ratelimit-limit"), "300");
  assert.ok(reply.headers.get("x-ratelimit-remaining"));
  // Read back from core directly, bypassing the worker.
  const stored = (await new Client(required("STARLING_TEST_CORE_URL")).get(`/api/v1/statuses/${status.id}`, alice.token)).expect(200);
  assert.equal(stored.account.id, alice.id);
  assert.match(stored.content, /through workerd/);
  const posted = core.seen.filter((e) => e.method === "POST" && e.path === "/api/v1/statuses" && e.auth === `Bearer ${alice.token}`);
  assert.equal(posted.length, 1, "the idempotent post reached core once");
  assert.equal(posted[0].bodyBytes, Buffer.byteLength(JSON.stringify({ status: text })));
});

test("workers: a request body larger than the edge ever buffers streams through to core intact", async () => {
  const client = new Client(edge.url);
  const bob = await client.register("writer_bob");
  const body = JSON.stringify({ status: "x".repeat(200 * 1024) });
  const reply = await client.request("POST", "/api/v1/statuses", { token: bob.token, json: body });
  assert.equal(reply.status, 422, "core read the whole body and refused the length");
  const seen = core.seen.filter((e) => e.path === "/api/v1/statuses" && e.auth === `Bearer ${bob.token}`);
  assert.deepEqual(seen.map((e) => e.bodyBytes), [Buffer.byteLength(body)]);
});

test("workers: an invalid token is refused with 401 by the edge without reaching core", async () => {
  const client = new Client(edge.url);
  // A registered user first, so the edge has core's keys (that fetch is the edge's own).
  await client.register("keys_warmup");
  for (const token of ["stl1.nope.nope.nope", "not-a-token-at-all", "stl1.eyJhbGciOiJFZERTQSJ9.e30.AAAA"]) {
    assertEdge401(await client.get("/api/v1/accounts/verify_credentials", token));
    assertEdge401(await client.get("/api/v1/timelines/home", token));
    assert.equal(core.count("GET", "/api/v1/accounts/verify_credentials", token), 0);
    assert.equal(core.count("GET", "/api/v1/timelines/home", token), 0);
  }
});

test("workers: an expired token is refused with 401 by the edge without reaching core", async () => {
  const client = new Client(shortEdge.url);
  const carol = await client.register("expiring_carol");
  assert.equal(shortCore.count("GET", "/api/v1/accounts/verify_credentials", carol.token), 1);
  // Core issued it with exp = iat + SHORT_TOKEN_TTL_SECS (whole seconds).
  await sleep((SHORT_TOKEN_TTL_SECS + 1.2) * 1000);
  assertEdge401(await client.get("/api/v1/accounts/verify_credentials", carol.token));
  assert.equal(shortCore.count("GET", "/api/v1/accounts/verify_credentials", carol.token), 1, "the expired token never reached core");
});

test("workers: a revoked token is refused with 401 by the edge, within the revocation-list TTL, without reaching core", async () => {
  const client = new Client(edge.url);
  const dave = await client.register("revoked_dave");
  (await client.post("/api/v1/statuses", dave.token, { status: "before revocation" })).expect(200);
  (await client.post("/oauth/revoke", null, { client_id: dave.clientId, client_secret: dave.clientSecret, token: dave.token })).expect(200);
  const before = core.count("GET", "/api/v1/accounts/verify_credentials", dave.token);
  await sleep(1200); // STARLING_REVOCATIONS_TTL_SECS=1
  assertEdge401(await client.get("/api/v1/accounts/verify_credentials", dave.token));
  assert.equal(core.count("GET", "/api/v1/accounts/verify_credentials", dave.token), before, "the revoked token never reached core");
});

test("workers: a burst past STARLING_RATE_REQUESTS=5/60 gets 429 with Retry-After and X-RateLimit-* from the edge", async () => {
  const client = new Client(limitedEdge.url);
  const erin = await client.register("bursty_erin"); // its verify_credentials used one request
  const replies = [];
  for (let i = 0; i < 8; i++) replies.push(await client.get("/api/v1/accounts/verify_credentials", erin.token));
  const statuses = replies.map((r) => r.status);
  assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429, 429, 429], `statuses: ${statuses}`);
  assert.deepEqual(replies.slice(0, 4).map((r) => r.headers.get("x-ratelimit-remaining")), ["3", "2", "1", "0"]);
  for (const r of replies.slice(4)) {
    assert.equal(r.body.error, "Too many requests");
    const retryAfter = Number(r.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    assert.equal(r.headers.get("x-ratelimit-limit"), "5");
    assert.equal(r.headers.get("x-ratelimit-remaining"), "0");
    const reset = Date.parse(r.headers.get("x-ratelimit-reset"));
    assert.ok(reset > Date.now() - 1000 && reset <= Date.now() + 61_000, `x-ratelimit-reset ${r.headers.get("x-ratelimit-reset")}`);
  }
  assert.equal(core.count("GET", "/api/v1/accounts/verify_credentials", erin.token), 5, "only the allowed requests reached core");
});

test("workers: the home timeline is a cache miss, then a hit served without core's timeline, then a miss after the TTL", async () => {
  const client = new Client(edge.url);
  const frank = await client.register("cached_frank");
  (await client.post("/api/v1/statuses", frank.token, { status: "my own post" })).expect(200);
  const homeCalls = () => core.count("GET", "/api/v1/timelines/home", frank.token);

  const first = await client.get("/api/v1/timelines/home", frank.token);
  assert.equal(first.headers.get("x-starling-cache"), "miss");
  assert.equal(first.expect(200).length, 1);
  const second = await client.get("/api/v1/timelines/home", frank.token);
  assert.equal(second.headers.get("x-starling-cache"), "hit");
  assert.deepEqual(second.expect(200), first.body);
  assert.equal(second.headers.get("cache-control"), "private, no-store");
  assert.ok(second.headers.get("x-ratelimit-remaining"), "a hit carries the rate-limit headers too");
  assert.equal(homeCalls(), 1, "the hit did not ask core for the timeline");

  await sleep(HOME_TTL_MS + 200);
  const third = await client.get("/api/v1/timelines/home", frank.token);
  assert.equal(third.headers.get("x-starling-cache"), "miss", "expired after STARLING_HOME_CACHE_TTL_MS");
  assert.deepEqual(third.expect(200), first.body);
  assert.equal(homeCalls(), 2);
});

test("workers: a followee's new post is visible in the cached home timeline within the bound", async () => {
  const client = new Client(edge.url);
  const grace = await client.register("followee_grace");
  const heidi = await client.register("follower_heidi");
  (await client.post(`/api/v1/accounts/${grace.id}/follow`, heidi.token, {})).expect(200);
  await sleep(200); // follow backfill is asynchronous in core
  (await client.get("/api/v1/timelines/home", heidi.token)).expect(200);
  const warm = await client.get("/api/v1/timelines/home", heidi.token);
  assert.equal(warm.headers.get("x-starling-cache"), "hit");

  const post = (await client.post("/api/v1/statuses", grace.token, { status: "fresh news" })).expect(200);
  const posted = Date.now();
  let seenAfter = null;
  let cache = null;
  while (Date.now() - posted < HOME_TTL_MS + 1000) {
    const home = await client.get("/api/v1/timelines/home", heidi.token);
    if (home.expect(200).some((s) => s.id === post.id)) {
      seenAfter = Date.now() - posted;
      cache = home.headers.get("x-starling-cache");
      break;
    }
    await sleep(50);
  }
  assert.ok(seenAfter !== null, `the post was not visible within ${HOME_TTL_MS} ms (+1 s for fanout)`);
  assert.ok(seenAfter <= HOME_TTL_MS, `visible after ${seenAfter} ms, bound ${HOME_TTL_MS} ms`);
  assert.equal(cache, "miss", "core's timeline version moved, so the cached page was not served");
  const again = await client.get("/api/v1/timelines/home", heidi.token);
  assert.equal(again.headers.get("x-starling-cache"), "hit");
  assert.equal(again.expect(200)[0].id, post.id);
});

test("workers: presign → PUT to S3 (moto) → the object is there, with the signed type and length", async () => {
  const s3 = required("STARLING_TEST_S3_URL");
  // moto checks no signatures: creating the bucket needs none.
  const made = await fetch(`${s3}/${S3_BUCKET}`, { method: "PUT" });
  assert.ok(made.ok, `bucket: ${made.status}`);
  const client = new Client(edge.url);
  const ivan = await client.register("uploader_ivan");
  const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
  const reply = await client.post("/api/starling/v1/media/uploads", ivan.token, { content_type: "image/png", size: bytes.length, file_name: "cat.png" });
  const presigned = reply.expect(200);
  assert.ok(reply.headers.get("x-ratelimit-remaining"), "the media class is limited");
  assert.equal(core.count("POST", "/api/starling/v1/media/uploads"), 0, "presigning never asks core");
  assert.equal(presigned.upload.method, "PUT");
  assert.equal(presigned.complete_url, `/api/starling/v1/media/${presigned.id}/complete`);
  const url = new URL(presigned.upload.url);
  assert.equal(url.origin, s3);
  assert.equal(url.searchParams.get("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
  // moto would accept a wrong type or length; real S3 refuses one the signature does not cover.
  assert.equal(url.searchParams.get("X-Amz-SignedHeaders"), "content-length;content-type;host");
  assert.match(url.pathname, new RegExp(`^/${S3_BUCKET}/uploads/${ivan.id}/${presigned.id}\\.png$`));

  const put = await fetch(presigned.upload.url, { method: "PUT", headers: presigned.upload.headers, body: bytes });
  assert.equal(put.status, 200, await put.text());
  // Read back as the bucket's owner (moto refuses anonymous reads and checks no signature).
  const day = new Date().toISOString().slice(0, 10).replaceAll("-", "");
  const stored = await fetch(`${s3}${url.pathname}`, {
    headers: { authorization: `AWS4-HMAC-SHA256 Credential=testing/${day}/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0` },
  });
  assert.equal(stored.status, 200);
  assert.equal(stored.headers.get("content-type"), "image/png");
  assert.deepEqual(Buffer.from(await stored.arrayBuffer()), bytes);

  // Refused at the edge: a type core cannot process, a size past the limit, no token.
  (await client.post("/api/starling/v1/media/uploads", ivan.token, { content_type: "application/x-sh", size: 10, file_name: "x.sh" })).expect(422);
  (await client.post("/api/starling/v1/media/uploads", ivan.token, { content_type: "image/png", size: 17 * 1024 * 1024, file_name: "big.png" })).expect(422);
  (await client.post("/api/starling/v1/media/uploads", null, { content_type: "image/png", size: 10, file_name: "a.png" })).expect(401);
});

test("workers: state written through Workers KV by one isolate is read by another (rate limit carried over)", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "starling-kv-"));
  try {
    const vars = { STARLING_CORE_URL: core.url, STARLING_RATE_REQUESTS: "6/60" };
    const first = await startEdge(vars, { kvPersist: dir });
    const client = new Client(first.url);
    const judy = await client.register("kv_judy"); // one request counted
    const counted = [];
    for (let i = 0; i < 2; i++) counted.push((await client.get("/api/v1/accounts/verify_credentials", judy.token)).headers.get("x-ratelimit-remaining"));
    assert.deepEqual(counted, ["4", "3"]);
    await sleep(300); // the KV writes happen after the response (waitUntil)
    await first.dispose();

    // A fresh isolate has nothing in memory: what it knows comes from KV.
    const second = await startEdge(vars, { kvPersist: dir });
    running.push(second);
    const other = new Client(second.url, client.address);
    const next = await other.get("/api/v1/accounts/verify_credentials", judy.token);
    assert.equal(next.expect(200).id, judy.id);
    assert.equal(next.headers.get("x-ratelimit-remaining"), "2", "the count continued from KV");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("workers: WebSocket streaming passes through the edge (upgrade proxied to core)", async () => {
  const client = new Client(edge.url);
  const [alice, bob] = [await client.register("ws_alice"), await client.register("ws_bob")];
  (await client.post(`/api/v1/accounts/${bob.id}/follow`, alice.token, {})).expect(200);
  const upgrades = core.seen.filter((e) => e.upgrade).length;
  const socket = await openWebSocket(`${edge.url}/api/v1/streaming?stream=user&access_token=${alice.token}`, { headers: { "cf-connecting-ip": client.address } });
  assert.equal(socket.status, 101, `no upgrade: ${socket.status} ${socket.body}`);
  assert.equal(core.seen.filter((e) => e.upgrade).length, upgrades + 1, "core served the upgrade");
  try {
    await sleep(300);
    (await client.post("/api/v1/statuses", bob.token, { status: "@ws_alice through workerd" })).expect(200);
    const events = [];
    for (let i = 0; i < 2; i++) events.push(JSON.parse(await socket.nextText()).event);
    assert.deepEqual(events.sort(), ["notification", "update"]);
    // Subscribing over the socket works too (client → core direction).
    socket.send({ type: "subscribe", stream: "public" });
    await sleep(300);
    (await client.post("/api/v1/statuses", bob.token, { status: "public through workerd" })).expect(200);
    const message = JSON.parse(await socket.nextText());
    assert.equal(message.event, "update");
  } finally {
    socket.close();
  }
  // The token as the subprotocol (what Mastodon's web client sends): core's choice reaches the
  // client, which a browser requires.
  const viaProtocol = await openWebSocket(`${edge.url}/api/v1/streaming?stream=user`, { protocols: alice.token });
  assert.equal(viaProtocol.status, 101, viaProtocol.body);
  assert.equal(viaProtocol.headers["sec-websocket-protocol"], alice.token);
  viaProtocol.close();
  // A bad token is still refused by the edge, before core.
  const refused = await openWebSocket(`${edge.url}/api/v1/streaming?stream=user&access_token=stl1.k.bad.sig`);
  assert.equal(refused.status, 401);
});

test("workers: responses the edge builds carry CORS headers as core's do; preflights are answered", async () => {
  const client = new Client(limitedEdge.url);
  const forwarded = await client.get("/api/v1/instance");
  assert.equal(forwarded.headers.get("access-control-allow-origin"), "*");
  const exposed = forwarded.headers.get("access-control-expose-headers");
  const bad = await client.get("/api/v1/timelines/home", "stl1.k1.garbage.sig");
  assert.equal(bad.status, 401);
  assert.equal(bad.headers.get("access-control-allow-origin"), "*");
  assert.equal(bad.headers.get("access-control-expose-headers"), exposed);
  let limited;
  for (let i = 0; i < 10 && limited?.status !== 429; i++) limited = await client.get("/api/v1/instance");
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("access-control-allow-origin"), "*");
  assert.equal(limited.headers.get("access-control-expose-headers"), exposed);
  const before = core.seen.length;
  const preflight = await fetch(`${limitedEdge.url}/api/v1/statuses`, {
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization", "cf-connecting-ip": client.address },
  });
  assert.equal(preflight.status, 200, "a preflight is answered even past the limit");
  assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
  assert.equal(preflight.headers.get("access-control-allow-methods"), "*");
  assert.equal(core.seen.length, before, "the preflight did not reach core");
});

test("workers: cached home hits carry CORS headers", async () => {
  const client = new Client(edge.url);
  const kim = await client.register("cors_kim");
  const miss = await client.get("/api/v1/timelines/home", kim.token);
  const hit = await client.get("/api/v1/timelines/home", kim.token);
  assert.equal(hit.headers.get("x-starling-cache"), "hit", `first was ${miss.headers.get("x-starling-cache")}`);
  assert.equal(hit.headers.get("access-control-allow-origin"), "*");
  assert.match(hit.headers.get("access-control-expose-headers") ?? "", /link/);
});

test("workers: the client address and the core secret travel to core", async () => {
  const secretEdge = await edgeInFront(core, { STARLING_CORE_SECRET: "wasm-secret" });
  const client = new Client(secretEdge.url);
  (await client.get("/api/v1/instance")).expect(200);
  const seen = core.seen.at(-1);
  assert.equal(seen.path, "/api/v1/instance");
  const received = core.seenHeaders.at(-1);
  assert.equal(received["x-forwarded-for"], client.address);
  assert.equal(received["x-starling-edge-secret"], "wasm-secret");
});

test("workers: with the shared secret, core's own limiter judges each client by its address, not the edge's", async () => {
  const guarded = required("STARLING_TEST_GUARDED_CORE_URL");
  // Without the secret every sign-up reaches core from 127.0.0.1: core's 5-per-address limit
  // stops the sixth although the edge saw six different clients.
  const plain = await edgeInFront({ url: guarded });
  const statuses = [];
  for (let i = 0; i < 6; i++) {
    const client = new Client(plain.url);
    const app = (await client.post("/api/v1/apps", null, { client_name: "t", redirect_uris: "urn:ietf:wg:oauth:2.0:oob", scopes: "read write" })).expect(200);
    const token = (await client.post("/oauth/token", null, { grant_type: "client_credentials", client_id: app.client_id, client_secret: app.client_secret, scope: "read write" })).expect(200);
    const reply = await client.post("/api/v1/accounts", token.access_token, { username: `plain${i}`, email: `plain${i}@example.org`, password: "correct horse battery", agreement: true });
    statuses.push(reply.status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429], "core sees one address without the secret");
  // With it, six more clients sign up: each is its own address at core.
  const trusted = await edgeInFront({ url: guarded }, { STARLING_CORE_SECRET: required("STARLING_TEST_GUARDED_CORE_SECRET") });
  for (let i = 0; i < 6; i++) await new Client(trusted.url).register(`trusted${i}`);
});
