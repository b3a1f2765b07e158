/** The allowed clock difference with the issuer, in seconds, when `clockToleranceSeconds` is not given. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
