import { Layout } from "./Layout.tsx";

/** A page that says what went wrong, and what to do. */
export function ErrorPage(props: { title: string; message: string; runId?: string }) {
  return (
    <Layout title={props.title} runId={props.runId}>
      <h1>{props.title}</h1>
      <p class="error" data-testid="error">{props.message}</p>
      <p>
        <a href="/">All runs</a>
      </p>
    </Layout>
  );
}
