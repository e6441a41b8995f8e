#!/usr/bin/env python3
"""Checks that every phone boot of a benchmark capture is diagnosed exactly as when its boot
is analysed alone.

usage: benches/boots_alone.py ITLSCOPE BIG.jsonl BOOTS_DIR

BIG.jsonl is `itlscope analyze BIG --format jsonl` of the benchmark capture; BOOTS_DIR is the
folder `make-bench-capture --boots-dir` wrote (boot-NNN.pcap and boots.tsv). Each boot file
is analysed alone with the same binary; its phone's row must equal the row of the same
phone (by MAC) in the big capture, field by field, except where the evidence sits (frame
numbers, also inside texts, and the capture path). Prints one line per difference and a summary;
exits 1 when a boot differs or is missing from the big report.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

# Where the evidence sits in its file, not what it says.
POSITIONAL = {"first_frame", "last_frame", "capture", "last_capture"}
FRAME_NUMBER = re.compile(r"\bframes? \d+(?:[-–,] ?\d+)*")


def same_evidence(a, b):
    """Equal, once frame numbers quoted in texts are set aside."""
    if isinstance(a, str) and isinstance(b, str):
        return FRAME_NUMBER.sub("frame N", a) == FRAME_NUMBER.sub("frame N", b)
    return a == b


def rows(text):
    out = {}
    for line in text.splitlines():
        if line.strip():
            row = json.loads(line)
            out[row.get("mac") or row.get("ip")] = row
    return out


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    itlscope, big_jsonl, boots_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    big = rows(big_jsonl.read_text())
    states = {}
    tsv = boots_dir / "boots.tsv"
    if tsv.exists():
        for line in tsv.read_text().splitlines()[1:]:
            name, ip, state, reason = line.split("\t")
            states[name] = (state, reason)
    boots = sorted(boots_dir.glob("boot-*.pcap"))
    same = 0
    failures = []
    for boot in boots:
        run = subprocess.run(
            [itlscope, "analyze", str(boot), "--format", "jsonl"],
            capture_output=True, text=True,
        )
        alone = rows(run.stdout)
        state = states.get(boot.name, ("?", "?"))[0]
        if run.returncode not in (0, 1) or len(alone) != 1:
            failures.append(f"{boot.name} ({state}): analyzed alone gives {len(alone)} phones, exit {run.returncode}")
            continue
        (key, row), = alone.items()
        other = big.get(key)
        if other is None:
            failures.append(f"{boot.name} ({state}): phone {key} missing from the big report")
            continue
        diffs = [
            f"{field}: alone {row.get(field)!r}, in the mix {other.get(field)!r}"
            for field in sorted(set(row) | set(other))
            if field not in POSITIONAL and not same_evidence(row.get(field), other.get(field))
        ]
        if diffs:
            failures.append(f"{boot.name} ({state}, {key}): " + "; ".join(diffs))
        else:
            same += 1
    for line in failures:
        print("  DIFFERS " + line)
    print(f"boots diagnosed as alone: {same}/{len(boots)}")
    return 0 if same == len(boots) and boots else 1


if __name__ == "__main__":
    sys.exit(main())
