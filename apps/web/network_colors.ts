/**
 * Network colours shared by the server's static first view and the
 * browser's viewer, so that the picture and NiiVue draw the same outlines.
 *
 * @module
 */

/** Yeo et al. 2011's colours of the 7 networks (Yeo2011_7Networks_ColorLUT), by label 1–7. */
export const YEO7_RGB: readonly (readonly [number, number, number])[] = [
  [120, 18, 134],
  [70, 130, 180],
  [0, 118, 14],
  [196, 58, 250],
  [220, 248, 164],
  [230, 148, 34],
  [205, 62, 78],
];
