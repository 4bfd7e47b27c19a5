import type { ComponentChildren } from "preact";
import type { Problem } from "../problems.ts";
import { runHref } from "../urls.ts";
import { Problems } from "./Problems.tsx";

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header{background:#1d2330;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:baseline}
header a{color:#cfe3ff;text-decoration:none}header strong{font-size:16px}
main{padding:16px 24px;max-width:1200px}
h1{font-size:20px;margin:8px 0 12px}h2{font-size:16px;margin:20px 0 8px}
table{border-collapse:collapse;background:#fff;margin:6px 0}
td,th{border:1px solid #dde2ea;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef1f6;font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #dde2ea;border-radius:6px;padding:10px 14px;min-width:260px}
.error{background:#fff3f3;border:1px solid #e5a0a0;border-radius:6px;padding:10px 14px}
.error ul{margin:6px 0 0;padding-left:20px}
.muted{color:#667085}.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.sig{font-weight:700}a{color:#1a5fb4}
.viewer canvas{image-rendering:pixelated;border:1px solid #ccd;background:#000;cursor:crosshair}
`;

/**
 * The page frame: navigation, styles, the islands' script, and a card with
 * the problems of the files the page read, above its content.
 */
export function Layout(
  props: {
    title: string;
    children: ComponentChildren;
    runId?: string;
    problems?: Problem[];
    /** More of the head: e.g. {@linkcode Preload}'s links. */
    head?: ComponentChildren;
  },
) {
  const r = props.runId;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · brainorg</title>
        <link rel="icon" href="data:," />
        <style>{CSS}</style>
        {props.head}
      </head>
      <body>
        <header>
          <strong>brainorg</strong>
          <a href="/">Runs</a>
          <a href="/compare">Compare</a>
          {r && (
            <>
              <a href={runHref(r)}>Overview</a>
              <a href={runHref(r, "brain")}>Brain</a>
              <a href={runHref(r, "rois")}>ROIs</a>
              <a href={runHref(r, "downloads")}>Downloads</a>
            </>
          )}
        </header>
        <main>
          <Problems problems={props.problems ?? []} />
          {props.children}
        </main>
        <script type="module" src="/_islands.js"></script>
      </body>
    </html>
  );
}
