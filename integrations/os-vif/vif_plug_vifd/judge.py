"""The wait rule of `vifd wait` (src/cli/wait-judge.ts), for one port. Pure.

A status counts only when it describes the generation waited for (or a
later one): a Ready left from before the last change is never the answer.
"""

REACHED = "reached"
FAILED = "failed"
WAITING = "waiting"

FAILED_PHASES = frozenset(("Failed", "Conflict", "Invalid"))


def judge(target, generation, status):
    """Verdict for `target` ('Ready' or 'Removed').

    :param generation: the desired binding's generation (for Ready: the one a
        PUT answered); None when no source names the port.
    :param status: the status dict (phase, message, observedGeneration), or
        None when vifd has none (not yet, or removed).
    """
    if target == "Removed":
        return REACHED if generation is None and status is None else WAITING
    if generation is None or status is None:
        return WAITING
    observed = status.get("observedGeneration")
    if (observed if isinstance(observed, int) else -1) < generation:
        return WAITING
    phase = status.get("phase")
    if phase == "Ready":
        return REACHED
    return FAILED if phase in FAILED_PHASES else WAITING
