// Bench-only Worker: a bare SQLite-backed Durable Object, the baseline of `bench_bare_object`.
// Not production: nothing in wrangler.toml or the Worker bundle refers to it.
//
// Every request goes to ONE named object (as every callback of one job reaches that job's
// object), which does one SQLite INSERT of the request body and answers 200. Nothing else:
// no auth, no parsing, no reply body beyond two bytes. It is the floor of "a Worker hop, a
// Durable Object hop and one durable write" on this runtime.
//
// `/r2-puts?n=N&size=BYTES` stores N objects of that size at once into the local R2 emulator
// (`bench_local_r2`): what storing one provider output costs the runtime's one thread here.

import { DurableObject } from "cloudflare:workers";

export class BareObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    // Synchronous and idempotent: the table exists before the first request is served.
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)",
    );
  }

  async fetch(request) {
    const body = await request.text();
    this.ctx.storage.sql.exec("INSERT INTO hits (body) VALUES (?)", body);
    return new Response("ok", { status: 200 });
  }
}

// Bounds of one `/r2-puts` request: the bench asks for a wave of ~1,200 outputs of at most 1 MB.
const MAX_PUTS = 5000;
const MAX_PUT_BYTES = 8 * 1024 * 1024;
let putSeq = 0;

async function r2Puts(params, bucket) {
  const n = Number(params.get("n"));
  const size = Number(params.get("size"));
  if (!Number.isInteger(n) || n < 1 || n > MAX_PUTS) {
    return new Response(`n must be 1..${MAX_PUTS}`, { status: 400 });
  }
  if (!Number.isInteger(size) || size < 1 || size > MAX_PUT_BYTES) {
    return new Response(`size must be 1..${MAX_PUT_BYTES}`, { status: 400 });
  }
  // Not all zeros, so nothing on the way can treat the bytes as trivially compressible.
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24;
  const batch = putSeq++;
  // As a job stores an output of known length: one put of the whole body, at a fresh key.
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      bucket.put(`wave-${batch}/${i}`, bytes, { httpMetadata: { contentType: "image/png" } }),
    ),
  );
  return new Response(String(n), { status: 200 });
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/healthz") return new Response("ok");
    // The runtime's floor without the object: the bench's decomposition row.
    if (pathname === "/worker-only") {
      await request.arrayBuffer();
      return new Response("ok", { status: 200 });
    }
    if (pathname === "/r2-puts") return r2Puts(new URL(request.url).searchParams, env.MEDIA);
    const stub = env.BARE.get(env.BARE.idFromName("one"));
    return stub.fetch(request);
  },
};
