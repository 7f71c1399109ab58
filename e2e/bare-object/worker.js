// Bench-only Worker: a bare SQLite-backed Durable Object, the baseline of `bench_bare_object`.
// Not production: nothing in wrangler.toml or the Worker bundle refers to it.
//
// Every request goes to ONE named object (as every callback of one job reaches that job's
// object), which does one SQLite INSERT of the request body and answers 200. Nothing else:
// no auth, no parsing, no reply body beyond two bytes. It is the floor of "a Worker hop, a
// Durable Object hop and one durable write" on this runtime.

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

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/healthz") return new Response("ok");
    // The runtime's floor without the object: the bench's decomposition row.
    if (pathname === "/worker-only") {
      await request.arrayBuffer();
      return new Response("ok", { status: 200 });
    }
    const stub = env.BARE.get(env.BARE.idFromName("one"));
    return stub.fetch(request);
  },
};
