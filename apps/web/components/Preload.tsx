/**
 * Elements of the page's head that start work before the islands' script
 * runs: NiiVue's module (an `async` module script: fetched while the page is
 * parsed and evaluated as soon as it arrives) and the volumes a viewer will
 * ask for (`<link rel="preload" as="fetch">`, matched by the island's own
 * `fetch()` of the same URL).
 *
 * @module
 */

/**
 * The elements, for {@linkcode Layout}'s `head`.
 *
 * @param props.modules ES modules the page's islands will `import()` (run early, once)
 * @param props.fetches URLs the page's islands will `fetch()` (same origin)
 *
 * @example
 * ```tsx
 * <Layout title="atom" head={<Preload modules={[NIIVUE_URL]} fetches={[mapUrl]} />}>…</Layout>
 * ```
 */
export function Preload(props: { modules?: string[]; fetches?: string[] }) {
  return (
    <>
      {
        // Run as soon as fetched, before the islands' script has hydrated anything: the island's
        // import() of the same URL then finds the module evaluated (a module runs once a page).
        (props.modules ?? []).map((href) => (
          <script key={href} type="module" async src={href}></script>
        ))
      }
      {
        // `crossorigin="anonymous"` is what a plain fetch() asks for (CORS mode, same-origin
        // credentials): without it the browser fetches the file a second time.
        [...new Set(props.fetches ?? [])].map((href) => (
          <link key={href} rel="preload" as="fetch" crossorigin="anonymous" href={href} />
        ))
      }
    </>
  );
}
