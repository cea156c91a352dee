"""The wait rule, case by case (the same table as src/cli/wait-judge.ts)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from vif_plug_vifd.judge import FAILED, REACHED, WAITING, judge  # noqa: E402


def st(phase, observed):
    out = {"phase": phase, "message": "m"}
    if observed is not None:
        out["observedGeneration"] = observed
    return out


class JudgeTest(unittest.TestCase):
    def test_ready(self):
        cases = [
            (5, None, WAITING),             # no status yet
            (None, st("Ready", 5), WAITING),  # no binding
            (5, st("Ready", 4), WAITING),   # a Ready of an older generation is never the answer
            (5, st("Ready", None), WAITING),
            (5, st("Ready", 5), REACHED),
            (5, st("Ready", 6), REACHED),   # a later change reached Ready
            (5, st("Pending", 5), WAITING),
            (5, st("Removing", 5), WAITING),
            (5, st("Failed", 4), WAITING),  # an older generation's failure says nothing
            (5, st("Failed", 5), FAILED),
            (5, st("Conflict", 5), FAILED),
            (5, st("Invalid", 7), FAILED),
        ]
        for generation, status, want in cases:
            with self.subTest(generation=generation, status=status):
                self.assertEqual(judge("Ready", generation, status), want)

    def test_removed(self):
        self.assertEqual(judge("Removed", None, None), REACHED)
        self.assertEqual(judge("Removed", 3, None), WAITING)
        self.assertEqual(judge("Removed", None, st("Removing", 3)), WAITING)
        self.assertEqual(judge("Removed", None, st("Failed", 3)), WAITING)


if __name__ == "__main__":
    unittest.main()
