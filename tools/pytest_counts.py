#!/usr/bin/env python3
"""Usage: tools/pytest_counts.py <junit.xml>

One line for the summary of `make test` from a pytest JUnit report: how many tests passed,
failed, errored, were skipped and failed as expected (xfail), then one indented line per skip reason with its count (a skip
must say why; the summary shows every reason; a test module skipped whole counts once, its
reason marked "whole module"). Exits 1 if the report is missing or unreadable
(pytest died before writing it: a crash).
"""
import ast
import collections
import sys
import xml.etree.ElementTree as ET


def module_skip_reason(text):
    """The reason of a test module skipped at collection (pytest.skip(allow_module_level=True)):
    JUnit XML has it only in the text, "('<file>', <line>, 'Skipped: <reason>')"."""
    try:
        reason = ast.literal_eval((text or "").strip())[2]
    except (ValueError, SyntaxError, TypeError, IndexError):
        return "collection skipped (whole module)"
    if reason.startswith("Skipped: "):
        reason = reason[len("Skipped: "):]
    return reason + " (whole module)"


def main(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print("no test report (%s): the interpreter died?" % e)
        return 1
    counts = collections.Counter()
    reasons = collections.Counter()
    for case in root.iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag == "skipped" and child.get("type") == "pytest.xfail":
                outcome = "xfailed"  # an expected failure, reported as a <skipped> by JUnit XML
                break
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "errors", "skipped": "skipped"}[child.tag]
                if child.tag == "skipped":
                    reason = child.get("message") or (child.text or "").strip() or "no reason given"
                    if reason == "collection skipped":
                        reason = module_skip_reason(child.text)
                    reasons[reason.replace("\n", " ")] += 1
                break
        counts[outcome] += 1
    parts = ["%d passed" % counts["passed"]]
    parts += ["%d %s" % (counts[k], k) for k in ("failed", "errors", "skipped", "xfailed") if counts[k]]
    print(", ".join(parts))
    for reason, n in sorted(reasons.items(), key=lambda item: -item[1]):
        print("    %d skipped: %s" % (n, reason))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
