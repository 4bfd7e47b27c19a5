/** The |value| threshold of a signed map, shared by the volume and surface viewers. */

import type { Signal } from "@preact/signals";

/**
 * A range input from 0 to `max` in steps of 0.1 with the value beside it;
 * `onChange` runs after the signal is set. Test ids: `<testId>` and
 * `<testId>-value`.
 */
export function ThresholdSlider(
  props: { threshold: Signal<number>; max: number; testId: string; onChange: () => void },
) {
  const { threshold } = props;
  return (
    <>
      threshold |value| &gt;{" "}
      <input
        type="range"
        data-testid={props.testId}
        min={0}
        max={props.max}
        step={0.1}
        value={threshold.value}
        onInput={(e) => {
          threshold.value = Number((e.target as HTMLInputElement).value);
          props.onChange();
        }}
      />{" "}
      <span data-testid={`${props.testId}-value`}>{threshold.value.toFixed(1)}</span>
    </>
  );
}
