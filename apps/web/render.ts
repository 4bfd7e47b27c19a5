/**
 * Pages to HTML responses.
 *
 * @module
 */

import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";

/** Render a page on the server as a complete HTML response. */
// deno-lint-ignore no-explicit-any
export function htmlResponse(page: VNode<any>, status = 200): Response {
  return new Response("<!doctype html>" + renderToString(page as VNode), {
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}
