// Serves the built edge worker in workerd (miniflare) on 127.0.0.1:PORT until stopped.
//   node wasm-tests/lib/serve-worker.js PORT CORE_URL
// Workers KV lives in memory for the life of the process. Every edge setting in the environment
// (the names edge_app::EdgeConfig::from_vars reads: STARLING_RATE_*, STARLING_S3_*,
// STARLING_HOME_CACHE_TTL_MS, STARLING_CORE_SECRET, …) becomes a Workers var.
import { startEdge } from "./harness.js";

/** Edge settings, as in edge/app/src/config.rs. */
const EDGE_VARS = /^STARLING_(HOME_CACHE_TTL_MS|KEYS_TTL_SECS|REVOCATIONS_TTL_SECS|RATE_[A-Z_]+|EDGE_NODE_ID|S3_[A-Z_]+|UPLOAD_EXPIRES_SECS|MAX_IMAGE_BYTES|MAX_VIDEO_BYTES|CORE_SECRET|STREAMING_URL)$/;

const [port, coreUrl] = process.argv.slice(2);
if (!port || !coreUrl) {
  console.error("usage: serve-worker.js PORT CORE_URL");
  process.exit(2);
}
const vars = Object.fromEntries(Object.entries(process.env).filter(([name]) => EDGE_VARS.test(name)));
const edge = await startEdge({ ...vars, STARLING_CORE_URL: coreUrl }, { port: Number(port) });
const shown = Object.keys(vars).map((name) => (/SECRET/.test(name) ? `${name}=***` : `${name}=${vars[name]}`));
console.log(`edge (workerd) on ${edge.url} → core ${coreUrl}${shown.length ? ` with ${shown.join(" ")}` : ""}`);
const stop = async () => {
  await edge.dispose();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
