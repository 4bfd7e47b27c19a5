/**
 * A bounded crawler for the dashboard's tests: from the pages given, it
 * follows every same-origin link a page holds (`href`, `src`, the URLs in
 * islands' props, the options of a `?map=` picker) and records each answer.
 *
 * @module
 */

/** One URL fetched. */
export interface Visit {
  /** Path and query, as requested. */
  path: string;
  /** The page that linked to it (absent for a start page). */
  from?: string;
  status: number;
  type: string;
  /** The body of HTML answers (others are read and dropped). */
  html?: string;
  /** Response headers. */
  headers: Headers;
}

/** Undo HTML's attribute escaping (what a browser does before it uses the value). */
export function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|quot|lt|gt|apos);/gi, (_, e: string) => {
    const named: Record<string, string> = { amp: "&", quot: '"', lt: "<", gt: ">", apos: "'" };
    if (e[0] !== "#") return named[e.toLowerCase()];
    return String.fromCodePoint(
      e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : +e.slice(1),
    );
  });
}

/** Same-origin paths (with query) that an HTML page links to or hands to its islands. */
export function linksOf(html: string, page: URL): string[] {
  const out: string[] = [];
  const add = (ref: string) => {
    if (ref.startsWith("data:") || ref.startsWith("#")) return;
    const url = new URL(ref, page);
    if (url.origin === page.origin) out.push(url.pathname + url.search);
  };
  for (const m of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) add(unescapeHtml(m[1]));
  for (const m of html.matchAll(/\sdata-props="([^"]*)"/g)) {
    const walk = (v: unknown): void => {
      if (typeof v === "string" && v.startsWith("/")) add(v);
      else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    walk(JSON.parse(unescapeHtml(m[1])));
  }
  if (/<select name="map"/.test(html)) {
    for (const m of html.matchAll(/<option value="([^"]*)"/g)) {
      add(`${page.pathname}?map=${encodeURIComponent(unescapeHtml(m[1]))}`);
    }
  }
  return out;
}

/**
 * Fetch the start paths and everything they link to, breadth first.
 *
 * @param base the server, e.g. `http://127.0.0.1:8123`
 * @param starts paths to begin with
 * @param options `limit`: the most URLs fetched (default 2,000); `timeoutMs`:
 *   per request (default 30 s)
 * @returns every visit, in order
 */
export async function crawl(
  base: string,
  starts: string[],
  options: { limit?: number; timeoutMs?: number } = {},
): Promise<Visit[]> {
  const limit = options.limit ?? 2000, visits: Visit[] = [];
  const queue: { path: string; from?: string }[] = starts.map((path) => ({ path }));
  const seen = new Set(starts);
  while (queue.length && visits.length < limit) {
    const { path, from } = queue.shift()!;
    const res = await fetch(base + path, {
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const type = res.headers.get("content-type") ?? "";
    const visit: Visit = { path, from, status: res.status, type, headers: res.headers };
    if (type.startsWith("text/html")) {
      visit.html = await res.text();
      for (const link of linksOf(visit.html, new URL(base + path))) {
        if (!seen.has(link)) (seen.add(link), queue.push({ path: link, from: path }));
      }
    } else await res.body?.cancel();
    visits.push(visit);
  }
  return visits;
}
