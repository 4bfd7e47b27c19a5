/**
 * Pages to HTML responses.
 *
 * @module
 */

import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";

/**
 * What a page may load: its own script bundle and files, inline styles (the
 * layout's and the viewer's), nothing inline that runs. Results are escaped
 * when rendered; this is the second wall, so that a text that slipped
 * through could still not run.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Render a page on the server as a complete HTML response. */
// deno-lint-ignore no-explicit-any
export function htmlResponse(page: VNode<any>, status = 200): Response {
  return new Response("<!doctype html>" + renderToString(page as VNode), {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": CONTENT_SECURITY_POLICY,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    },
  });
}

/**
 * A plain-text answer (an error a script can read), never sniffed as
 * another type.
 *
 * @param body the message
 * @param status the HTTP status
 */
export function textResponse(body: string, status: number): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
  });
}
