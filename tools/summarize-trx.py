#!/usr/bin/env python3
"""Sums the TRX files of a test run: totals, and how many tests ran against each database.

Prints the plain closing line 'N passed, N failed' (', N skipped') last. Exits 1 if any test failed,
if no test ran, or if (with --require-postgres) no PostgreSQL test ran.
"""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    require_pg = "--require-postgres" in sys.argv
    counts = {"Passed": 0, "Failed": 0, "NotExecuted": 0}
    by_db = {"Sqlite": {"Passed": 0, "Failed": 0}, "Postgres": {"Passed": 0, "Failed": 0}}
    failed_names = []
    for trx in sorted(Path(args[0]).glob("*.trx")):
        root = ET.parse(trx).getroot()
        for r in root.iterfind(".//t:UnitTestResult", NS):
            outcome = r.get("outcome", "")
            name = r.get("testName", "")
            key = "Passed" if outcome == "Passed" else "Failed" if outcome == "Failed" else "NotExecuted"
            counts[key] += 1
            if key == "Failed":
                failed_names.append(name)
            for db in by_db:
                if f"_{db}." in name or name.endswith(f"_{db}"):
                    if key in by_db[db]:
                        by_db[db][key] += 1
    for db, c in by_db.items():
        print(f"{db} behaviour tests: {c['Passed']} passed, {c['Failed']} failed")
    for name in failed_names:
        print(f"FAILED: {name}")
    total = counts["Passed"] + counts["Failed"]
    line = f"{counts['Passed']} passed, {counts['Failed']} failed"
    if counts["NotExecuted"]:
        line += f", {counts['NotExecuted']} skipped"
    print(line)
    if counts["Failed"] or total == 0:
        return 1
    if require_pg and by_db["Postgres"]["Passed"] + by_db["Postgres"]["Failed"] == 0:
        print("No PostgreSQL test ran.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
