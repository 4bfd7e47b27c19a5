/**
 * `deno task web [results folders…]`: the results dashboard on
 * http://127.0.0.1:8000 (Fresh-style: file routes, server-rendered Preact,
 * hydrated islands).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createHandler } from "./server.ts";

const HELP = `brainorg web — browse results folders in a dashboard

Usage:
  deno task web [options] [FOLDER …]   (default folder: results/demo)

Options:
  --port N      port (default: 8000; 0 picks a free one)
  --host ADDR   address to bind (default: 127.0.0.1; anything else exposes your results)
  -h, --help    this help
`;

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "8000" },
      host: { type: "string", default: "127.0.0.1" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(
      `error: --port must be a whole number from 0 to 65535: current value is "${values.port}"\n\n${HELP}`,
    );
    Deno.exit(2);
  }
  const folders = positionals.length ? positionals : ["results/demo"];
  const { handler, runs } = await createHandler(folders);
  for (const r of runs) {
    const fields = r.problems.length
      ? ` (${r.problems.length} fields or files could not be read: see its pages)`
      : "";
    console.error(`${r.id}: ${r.dir} — ${r.status}${r.problem ? ` (${r.problem})` : fields}`);
  }
  Deno.serve({
    hostname: values.host,
    port,
    onListen: ({ hostname, port }) => console.error(`dashboard: http://${hostname}:${port}/`),
  }, handler);
}
