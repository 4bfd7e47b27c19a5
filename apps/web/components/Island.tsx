import SurfaceViewer from "../islands/SurfaceViewer.tsx";
import TimeCourse from "../islands/TimeCourse.tsx";
import VolumeViewer from "../islands/VolumeViewer.tsx";

// deno-lint-ignore no-explicit-any
const ISLANDS: Record<string, (props: any) => unknown> = {
  SurfaceViewer,
  TimeCourse,
  VolumeViewer,
};

/**
 * Render an island on the server, marked for hydration with its props.
 * The props travel in an attribute, escaped like any attribute, and never
 * in a `<script>` element, where a `</script>` inside a word or a network
 * name would end the script and start markup.
 */
export function Island(props: { name: keyof typeof ISLANDS; props: Record<string, unknown> }) {
  const C = ISLANDS[props.name] as (p: Record<string, unknown>) => preact.JSX.Element;
  return (
    <div data-island={props.name} data-props={JSON.stringify(props.props)}>
      <C {...props.props} />
    </div>
  );
}
