// Samples the Worker's CPU through workerd's DevTools inspector and prints where it goes.
//
// Start the runtime with RUNTIME_INSPECTOR_PORT=9229 (scripts/runtime.mjs), put load on it, then
//   node scripts/cpu-profile.mjs --port 9229 --seconds 20 [--delay S] [--out FILE.cpuprofile]
//     [--top 40]
// (--delay: seconds to wait once the inspector answers, e.g. past a benchmark's set-up)
// For names of Rust functions, serve the named copy of the module (target/worker-named.wasm,
// the same code as the shipped one) in place of actors/build/index_bg.wasm while profiling.

import fs from "node:fs";
import WebSocket from "ws";

const args = { port: 9229, seconds: 20, delay: 0, out: "", top: 40, wait: 120 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, "");
  if (!(key in args)) throw new Error(`unknown flag ${argv[i]}`);
  args[key] = key === "out" ? argv[i + 1] : Number(argv[i + 1]);
}

async function targets() {
  for (let tries = 0; tries < args.wait * 4; tries++) {
    try {
      const list = await (await fetch(`http://127.0.0.1:${args.port}/json`)).json();
      if (list.length) return list;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no inspector on port ${args.port}`);
}

const list = await targets();
await new Promise((r) => setTimeout(r, args.delay * 1000));
// Miniflare names its own internal workers with a prefix; the user's Worker is the other one.
const target = list.find((t) => !/^(core:|loopback)/.test(t.title ?? "")) ?? list[0];
console.error(`profiling ${target.title ?? target.id} for ${args.seconds} s`);
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((ok, fail) => (ws.once("open", ok), ws.once("error", fail)));
let next = 1;
const pending = new Map();
ws.on("message", (data) => {
  const msg = JSON.parse(data);
  if (msg.id && pending.has(msg.id)) {
    pending.get(msg.id)(msg);
    pending.delete(msg.id);
  }
});
const call = (method, params = {}) =>
  new Promise((resolve) => {
    const id = next++;
    pending.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });

await call("Profiler.enable");
await call("Profiler.setSamplingInterval", { interval: 100 });
await call("Profiler.start");
await new Promise((r) => setTimeout(r, args.seconds * 1000));
const { result } = await call("Profiler.stop");
ws.close();
const profile = result.profile;
if (args.out) fs.writeFileSync(args.out, JSON.stringify(profile));

// Self time per function, and inclusive time per function (a node counts once per sample
// even when it recurses).
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfCount = new Map();
const totalCount = new Map();
const name = (n) => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url ? n.callFrame.url.split("/").pop() : ""}`.trim();
let samples = 0;
for (const id of profile.samples) {
  samples++;
  const n = byId.get(id);
  selfCount.set(name(n), (selfCount.get(name(n)) ?? 0) + 1);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur));
    if (!seen.has(k)) {
      seen.add(k);
      totalCount.set(k, (totalCount.get(k) ?? 0) + 1);
    }
  }
}
const show = (title, counts) => {
  console.log(`\n${title} (of ${samples} samples)`);
  for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, args.top))
    console.log(`${((100 * v) / samples).toFixed(1).padStart(5)}%  ${k}`);
};
show("self", selfCount);
show("inclusive", totalCount);
