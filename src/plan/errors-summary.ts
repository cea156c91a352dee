// Short, stable summaries of actuator errors for status messages. Pure.

export function describeErrors(errors: readonly Error[]): string {
  const unique = [...new Set(errors.map((e) => e.message))];
  const shown = unique.slice(0, 3).join('; ');
  return unique.length > 3 ? `${shown}; and ${unique.length - 3} more` : shown;
}

/** Every error says the host refused the request itself: retrying soon is pointless. */
export function allTerminal(errors: readonly Error[]): boolean {
  return errors.every((e) => (e as { retryable?: unknown }).retryable === false);
}
