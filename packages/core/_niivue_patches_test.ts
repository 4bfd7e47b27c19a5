import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { NIIVUE_PATCHES, patchNiivue } from "./_niivue_patches.ts";
import { niivueScript } from "./niivue_script.ts";

const NIIVUE = join(Deno.cwd(), "node_modules/@niivue/niivue/build/niivue/index.js");
const installed = await readFile(NIIVUE, "utf8").catch(() => null);

Deno.test({
  name: "niivue patches: each applies exactly once to the installed NiiVue",
  ignore: installed === null,
  fn() {
    const { source, missed } = patchNiivue(installed!);
    assert.deepEqual(missed, []);
    assert.notEqual(source, installed);
    for (const p of NIIVUE_PATCHES) assert.ok(source.includes(p.replace), p.name);
    // The eager compile is gone; every deferral is closed where it is opened.
    assert.ok(!source.includes("this.program = compileShader(gl, vertexSrc, fragmentSrc);"));
    const opened = source.split("deferShaders$(gl, true)").length +
      source.split("deferShaders$(this.gl, true)").length;
    const closed = source.split("deferShaders$(gl, false)").length +
      source.split("deferShaders$(this.gl, false)").length;
    assert.equal(opened, closed);
  },
});

Deno.test("niivue patches: all or none: a text not found leaves the source as it was", () => {
  const first = NIIVUE_PATCHES[0].find, second = NIIVUE_PATCHES[1].find;
  const text = `${first}\n${second}\n`;
  const { source, missed } = patchNiivue(text);
  assert.equal(source, text);
  assert.ok(missed.includes(NIIVUE_PATCHES[2].name));
  assert.ok(!missed.includes(NIIVUE_PATCHES[0].name));
  // A text found twice is not patched either (the place would be a guess).
  assert.ok(patchNiivue(first + first).missed.includes(NIIVUE_PATCHES[0].name));
});

/** A WebGL stand-in that logs what reaches it; programs and locations are plain objects. */
function fakeGl() {
  const calls: string[] = [];
  let current: unknown = null;
  class Fake {
    CURRENT_PROGRAM = 0x8b8d;
    useProgram(p: { id: number } | null) {
      current = p;
      calls.push(`use ${p?.id}`);
    }
    getUniformLocation(p: { id: number }, name: string) {
      return { program: p.id, name };
    }
    getParameter() {
      return current;
    }
    uniform1i(loc: { program: number; name: string } | null, v: number) {
      calls.push(`uniform1i ${loc?.program}.${loc?.name}=${v}`);
    }
    uniform1f(loc: { program: number; name: string } | null, v: number) {
      calls.push(`uniform1f ${loc?.program}.${loc?.name}=${v}`);
    }
  }
  return { gl: new Fake() as unknown as Record<string, (...a: unknown[]) => unknown>, calls, Fake };
}

Deno.test("niivue patches: a program compiles on first use and gets the uniforms set before", () => {
  const lazy = NIIVUE_PATCHES[0].replace;
  const { gl, calls, Fake } = fakeGl();
  let compiled = 0;
  const compileShader = () => ({ id: ++compiled });
  const publicField = (o: Record<string, unknown>, k: string, v?: unknown) => (o[k] = v);
  const make = new Function(
    "compileShader",
    "__publicField",
    "WebGL2RenderingContext",
    `${lazy}\nreturn { Shader, deferShaders$ };`,
  );
  const { Shader, deferShaders$ } = make(compileShader, publicField, Fake);
  const vert = "uniform mat4 mvp;\nvoid main() {}", frag = "uniform int volume;\nvoid main() {}";

  // init(): two programs set up, none compiled, nothing reaches WebGL.
  deferShaders$(gl, true);
  const a = new Shader(gl, vert, frag), b = new Shader(gl, vert, frag);
  a.use(gl);
  gl.uniform1i(a.uniforms.volume, 0);
  gl.uniform1i(a.uniforms.volume, 3); // the later value wins
  b.use(gl);
  gl.uniform1f(gl.getUniformLocation(b.program, "gain"), 2);
  deferShaders$(gl, false);
  assert.equal(compiled, 0);
  assert.deepEqual(calls, []);

  // First use of a: compiled once, its uniform replayed on it, then made current.
  a.use(gl);
  assert.equal(compiled, 1);
  assert.deepEqual(calls, ["use 1", "uniform1i 1.volume=3", "use undefined", "use 1"]);
  assert.deepEqual(a.uniforms.volume, { program: 1, name: "volume" });
  a.use(gl);
  assert.equal(compiled, 1, "compiled again");
  // b, read by its uniforms (no use first): compiled, replayed, and a stays current.
  calls.length = 0;
  assert.deepEqual(b.uniforms.mvp, { program: 2, name: "mvp" });
  assert.deepEqual(calls, ["use 2", "uniform1f 2.gain=2", "use 1"]);
  // Outside init, a uniform of a compiled program goes straight through.
  calls.length = 0;
  gl.uniform1i(b.uniforms.volume, 7);
  assert.deepEqual(calls, ["uniform1i 2.volume=7"]);
});

Deno.test({
  name: "niivue patches: the dashboard's module and the report's script are both patched",
  ignore: installed === null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const warnings: string[] = [];
    for (const format of ["esm", "iife"] as const) {
      const { js } = await niivueScript({ format, warn: (m) => warnings.push(m) });
      // Property names survive minification: the lazy shader's and the deferred gradient's.
      for (const name of ["compile$", "pending$", "gradientHdr$"]) {
        assert.ok(js.includes(name), `${format}: ${name}`);
      }
      if (format === "iife") assert.match(js, /^var niivue=/);
      else assert.match(js, /export\{/);
    }
    assert.deepEqual(warnings, []);
  },
});
