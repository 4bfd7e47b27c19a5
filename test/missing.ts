/**
 * What a test helper does when a tool a test needs is missing: under CI
 * (the named variable set to 1) the run fails; elsewhere a red notice says
 * the test is ignored.
 *
 * @module
 */

/** Report a missing requirement; returns false (the test cannot run). */
export function reportMissing(
  message: string,
  requiredBy: "BRAINORG_REQUIRE_REFERENCES" | "BRAINORG_REQUIRE_WEBGPU",
  required = message,
): false {
  if (Deno.env.get(requiredBy) === "1") throw new Error(required);
  console.warn(`%c${message}`, "color: red; font-weight: bold");
  return false;
}
