// Entry module of the edge worker: the Workers `fetch` handler hands every request to the Rust
// edge (edge/workers/src/lib.rs, exported by `#[event(fetch)]` through wasm-bindgen).
import { fetch as edgeFetch } from "./edge_workers.js";

export default {
  async fetch(request, env, ctx) {
    return edgeFetch(request, env, ctx);
  },
};
