// Runs the bench-only bare-object Worker (worker.js, wrangler.toml next to this file) on
// workerd through Miniflare alone, exactly as scripts/runtime.mjs runs ours for the benchmarks:
// options derived by wrangler's `unstable_getMiniflareWorkerOptions` from the config, loopback
// only, no `request.cf` fetch at start (`cf: false`), state persisted on disk (DIR/v3) as ours is.
//
// node e2e/bare-object/runtime.mjs --port PORT --persist-to DIR

import path from "node:path";
import { fileURLToPath } from "node:url";
import { Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = { port: 0, persistTo: "" };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const [flag, value] = [argv[i], argv[i + 1]];
  if (value === undefined) throw new Error(`${flag} needs a value`);
  if (flag === "--port") args.port = Number(value);
  else if (flag === "--persist-to") args.persistTo = value;
  else throw new Error(`unknown flag ${flag}`);
}
if (!args.port || !args.persistTo) throw new Error("--port and --persist-to are required");

const config = unstable_readConfig({ config: path.join(here, "wrangler.toml") });
const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
const mf = new Miniflare({
  host: "127.0.0.1",
  port: args.port,
  // The same log level as ours, so both runtimes pay for the same logging.
  log: new Log(LogLevel.INFO),
  cf: false,
  defaultPersistRoot: path.join(path.resolve(args.persistTo), "v3"),
  workers: [
    {
      ...workerOptions,
      name: config.name,
      modules: true,
      scriptPath: path.resolve(here, config.main),
    },
  ],
});
const url = await mf.ready;
console.log(`bare object ready on ${url}`);

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, async () => {
    await mf.dispose();
    process.exit(0);
  });
}
