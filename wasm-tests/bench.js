// Cache-hit throughput and latency of the edge in workerd, against a static worker in the same
// workerd/miniflare setup and the same run (the floor: what workerd costs with no work at all).
//   node bench.js CORE_URL     (bench.sh starts core and calls this)
// Env: BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 16)
import autocannon from "autocannon";
import { Client, startEdge, startStaticWorker } from "./lib/harness.js";

const coreUrl = process.argv[2];
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);

// Long cache bound and a limit no run reaches: every measured request is a cache hit.
const edge = await startEdge({ STARLING_CORE_URL: coreUrl, STARLING_HOME_CACHE_TTL_MS: "600000", STARLING_RATE_REQUESTS: "100000000/60" });
const floor = await startStaticWorker();
const client = new Client(edge.url);
const user = await client.register(`bench_${Date.now()}`);
for (let i = 0; i < 20; i++) (await client.post("/api/v1/statuses", user.token, { status: `bench post ${i}` })).expect(200);
(await client.get("/api/v1/timelines/home", user.token)).expect(200);
const warm = await client.get("/api/v1/timelines/home", user.token);
if (warm.headers.get("x-starling-cache") !== "hit") throw new Error("the warm-up request was not a cache hit");

async function run(name, url, headers) {
  await autocannon({ url, connections, duration: 2, headers }); // warm-up
  const r = await autocannon({ url, connections, duration: seconds, headers });
  const non2xx = r.non2xx + r.errors + r.timeouts;
  return { name, "req/s": Math.round(r.requests.average), "p50 ms": r.latency.p50, "p99 ms": r.latency.p99, requests: r.requests.total, "non-2xx/errors": non2xx, "bytes/resp": Math.round(r.throughput.total / Math.max(1, r.requests.total)) };
}

const results = [];
results.push(await run("static worker (floor)", `${floor.url}/`, {}));
results.push(await run("edge: GET /api/v1/timelines/home, cache hit", `${edge.url}/api/v1/timelines/home`, { authorization: `Bearer ${user.token}`, "cf-connecting-ip": "203.0.113.9" }));
// What every hit asks core (the per-user timeline version), measured at core directly.
results.push(await run("core alone: GET /api/starling/v1/timelines/home/version", `${coreUrl}/api/starling/v1/timelines/home/version`, { authorization: `Bearer ${user.token}` }));
await edge.dispose();
await floor.dispose();

console.log(`connections=${connections} duration=${seconds}s node=${process.version}`);
console.table(results);
console.log("| case | req/s | p50 ms | p99 ms | requests | non-2xx |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) console.log(`| ${r.name} | ${r["req/s"]} | ${r["p50 ms"]} | ${r["p99 ms"]} | ${r.requests} | ${r["non-2xx/errors"]} |`);
