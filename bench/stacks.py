"""Summarise a py-spy collapsed-stack profile (`python -m bench --profile DIR`).

`python -m bench.stacks FILE [--top N] [--match TEXT]`: the share of samples in which each
function appears (inclusive) and is the leaf (self), so the cost of a layer (token decode,
the session, the audit append) reads off directly.
"""

import argparse
import re
from collections import Counter
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.stacks")
    ap.add_argument("file", type=Path)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--match", help="only frames whose text contains this")
    args = ap.parse_args()
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    for line in args.file.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        for f in set(frames):
            inclusive[f] += count
        leaf[frames[-1]] += count
    print(f"{total} samples")
    print(f"{'incl %':>7} {'self %':>7}  frame")
    for f, n in inclusive.most_common():
        if args.match and args.match not in f:
            continue
        if args.top <= 0:
            break
        args.top -= 1
        print(f"{100 * n / total:>7.1f} {100 * leaf[f] / total:>7.1f}  {f}")


if __name__ == "__main__":
    main()
