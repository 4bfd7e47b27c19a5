/**
 * Named points where a test can stop the process, to prove that a run
 * killed there resumes to the same results, or that two runs meeting there
 * do not harm each other. Test-only: inert unless one of the variables below
 * is set, which no user has reason to do.
 *
 * - `BRAINORG_TEST_KILL_AT=<point>[#<n>]`: SIGKILL the n-th time (default:
 *   the first) `<point>` is reached.
 * - `BRAINORG_TEST_HOLD_AT=<point>[#<n>]@<gate>`: there, create
 *   `<gate>.ready-<pid>` and wait until the file `<gate>` exists.
 *
 * | point             | reached                                                       |
 * | ----------------- | ------------------------------------------------------------- |
 * | `file-written`    | a file's temporary copy is complete, before its rename        |
 * | `entry-built`     | a cache entry is complete in its temporary folder              |
 * | `entry-committed` | a cache entry has been renamed into place                     |
 * | `dir-built`       | a folder (e.g. the results) is complete in its temporary twin  |
 * | `dir-swap`        | the folder it replaces has been moved aside, the new one not yet in |
 *
 * @module
 */

interface Target {
  point: string;
  n: number;
  gate?: string;
}

let targets: Target[] | undefined;
const seen = new Map<string, number>();

function readTargets(): Target[] {
  const out: Target[] = [];
  for (const name of ["BRAINORG_TEST_KILL_AT", "BRAINORG_TEST_HOLD_AT"]) {
    let value: string | undefined;
    try {
      value = Deno.env.get(name);
    } catch {
      return []; // no --allow-env: no test is driving this process
    }
    const m = value?.match(/^([a-z-]+)(?:#(\d+))?(?:@(.+))?$/);
    if (!m || (name === "BRAINORG_TEST_HOLD_AT") !== (m[3] !== undefined)) continue;
    out.push({ point: m[1], n: Number(m[2] ?? 1), ...(m[3] ? { gate: m[3] } : {}) });
  }
  return out;
}

/**
 * Kill this process, or wait at a gate, if a test asked for it at `point`
 * (see the module doc); otherwise return at once.
 *
 * @param point one of the names in the module doc
 *
 * @example
 * ```ts ignore
 * import { faultPoint } from "./_fault_points.ts";
 * await faultPoint("entry-built"); // a no-op unless BRAINORG_TEST_KILL_AT=entry-built
 * ```
 */
export async function faultPoint(point: string): Promise<void> {
  targets ??= readTargets();
  if (!targets.some((t) => t.point === point)) return;
  const n = (seen.get(point) ?? 0) + 1;
  seen.set(point, n);
  for (const t of targets) {
    if (t.point !== point || t.n !== n) continue;
    if (!t.gate) Deno.kill(Deno.pid, "SIGKILL");
    await Deno.writeTextFile(`${t.gate}.ready-${Deno.pid}`, "");
    for (;;) {
      try {
        await Deno.stat(t.gate!);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
}
