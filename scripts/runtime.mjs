// Runs the built Worker on workerd through Miniflare alone, without `wrangler dev`'s proxy.
//
// `wrangler dev` puts a second workerd in front of the Worker (its proxy worker, for live
// reload and DevTools). Under hundreds of concurrent renders that proxy grew by about 40 MB every
// 10 s while the Worker's own runtime stayed flat (measured with `RENDERS=100 bench_faults`),
// so the large benchmarks start the Worker with this script instead. It is the same runtime,
// bundle and bindings: the options come from `wrangler.toml`'s dev environment through
// wrangler's own `unstable_getMiniflareWorkerOptions`, and state lives where
// `wrangler dev --persist-to DIR` keeps it (DIR/v3), so D1 migrations applied by wrangler apply.
//
// node scripts/runtime.mjs --port 8787 --persist-to DIR [--var NAME:VALUE ...]
//   [--config PATH --env NAME]   (default: wrangler.toml, environment "dev"; `--env ""` for a
//                                 config's top level, as the bench-only e2e/bare-object has)

import path from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";

function parseArgs(argv) {
  const args = {
    port: 8787,
    persistTo: ".wrangler/state",
    vars: {},
    config: "wrangler.toml",
    env: "dev",
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--port") args.port = Number(value);
    else if (flag === "--persist-to") args.persistTo = value;
    else if (flag === "--config") args.config = value;
    else if (flag === "--env") args.env = value;
    else if (flag === "--var") {
      const at = value.indexOf(":");
      if (at < 1) throw new Error(`--var takes NAME:VALUE, not ${value}`);
      args.vars[value.slice(0, at)] = value.slice(at + 1);
    } else throw new Error(`unknown flag ${flag}`);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const env = args.env || undefined;
const config = unstable_readConfig({ config: args.config, env });
const { workerOptions } = unstable_getMiniflareWorkerOptions(config, env);
const mf = new Miniflare({
  host: "127.0.0.1",
  port: args.port,
  log: new Log(LogLevel.INFO),
  // Miniflare would fetch `request.cf` sample data from workers.cloudflare.com at start; nothing
  // here may reach beyond loopback, so it uses its built-in fallback object.
  cf: false,
  defaultPersistRoot: path.join(path.resolve(args.persistTo), "v3"),
  // A DevTools inspector for CPU profiles (`scripts/cpu-profile.mjs`); off unless asked for.
  ...(process.env.RUNTIME_INSPECTOR_PORT
    ? { inspectorPort: Number(process.env.RUNTIME_INSPECTOR_PORT) }
    : {}),
  workers: [
    {
      ...workerOptions,
      name: config.name,
      modules: true,
      // `main` is relative to the config file.
      scriptPath: path.resolve(path.dirname(args.config), config.main),
      bindings: { ...workerOptions.bindings, ...args.vars },
    },
  ],
});
const url = await mf.ready;
console.log(`runtime ready on ${url}`);

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, async () => {
    await mf.dispose();
    process.exit(0);
  });
}
