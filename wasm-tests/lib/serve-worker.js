// Serves the built edge worker in workerd (miniflare) on 127.0.0.1:PORT until stopped.
//   node wasm-tests/lib/serve-worker.js PORT CORE_URL
// Workers KV lives in memory for the life of the process.
import { startEdge } from "./harness.js";

const [port, coreUrl] = process.argv.slice(2);
if (!port || !coreUrl) {
  console.error("usage: serve-worker.js PORT CORE_URL");
  process.exit(2);
}
const edge = await startEdge({ STARLING_CORE_URL: coreUrl }, { port: Number(port) });
console.log(`edge (workerd) on ${edge.url} → core ${coreUrl}`);
const stop = async () => {
  await edge.dispose();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
