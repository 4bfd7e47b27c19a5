import { type Problem, problemText } from "../problems.ts";

/**
 * A card listing what could not be read, each line naming the file and the
 * field; nothing when there is nothing to say.
 */
export function Problems(props: { problems: Problem[]; title?: string }) {
  const lines = [...new Set(props.problems.map(problemText))];
  if (!lines.length) return null;
  return (
    <div class="error" data-testid="problems">
      <strong>{props.title ?? "Some of this run could not be read"}</strong>
      <ul>
        {lines.map((l) => <li key={l}>{l}</li>)}
      </ul>
    </div>
  );
}
