import assert from "node:assert/strict";
import { createProgress } from "./progress.ts";

function capture(tty: boolean, quiet = false, step = 50) {
  const out: string[] = [];
  let t = 0;
  const p = createProgress({
    label: "work",
    total: 20,
    tty,
    quiet,
    write: (s) => out.push(s),
    now: () => (t += step),
    minIntervalMs: 1000,
  });
  return { out, p };
}

Deno.test("plain progress prints one line per tenth and a closing line", () => {
  const { out, p } = capture(false, false, 1000);
  for (let i = 0; i < 20; i++) p.tick();
  p.done("ok");
  assert.equal(out.length, 12); // 0%..100% in 10% steps (11 lines) + done
  assert.ok(out.every((l) => l.endsWith("\n")));
  assert.match(out[10], /work: 20\/20 \(100%\)/);
  assert.match(out[11], /work: done in .* — ok/);
});

Deno.test("plain progress on quick work prints only the closing line", () => {
  const { out, p } = capture(false, false, 10);
  for (let i = 0; i < 20; i++) p.tick();
  p.done();
  assert.equal(out.length, 1);
  assert.match(out[0], /^work: done in/);
});

Deno.test("tty progress redraws in place with a bar", () => {
  const { out, p } = capture(true);
  for (let i = 0; i < 20; i++) p.tick();
  p.done();
  assert.ok(out.length > 2 && out.length < 22);
  assert.ok(out.every((l) => l.startsWith("\r")));
  assert.match(out.at(-2)!, /\[#{24}\] work: 20\/20/);
});

Deno.test("quiet progress prints nothing", () => {
  const { out, p } = capture(false, true);
  p.tick(20);
  p.done();
  assert.deepEqual(out, []);
});
