/** brainorg's version, recorded in every provenance record. */
export const BRAINORG_VERSION = "0.1.0";
