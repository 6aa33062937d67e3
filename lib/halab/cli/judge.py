"""`halab judge FILE`: judge a run again from its history file (written beside each judged run).

The judge is a checker over one history: today's checks over a run kept from any night, without
a lab. Prints the verdict (its headline, then one line per check) and exits 0 when it holds, 1
when it does not, 2 when FILE is not a history.
"""

from __future__ import annotations

import argparse

from halab.errors import ParseError
from halab.inputs import read_input
from halab.observe import history_file
from halab.observe.judge import judge

HELP = {"judge": "judge a run again from its history file (reports/histories/*.json)"}


def register(name: str, parser: argparse.ArgumentParser) -> None:
    del name
    parser.add_argument("file", metavar="FILE", help="a history file ('-' for stdin)")


def run(args: argparse.Namespace) -> int:
    data = read_input(args.file, lambda what: ParseError(history_file.KIND, what))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(history_file.KIND, f"{args.file} is not UTF-8") from None
    timeline, prediction, evidence = history_file.load(text)
    verdict = judge(timeline, prediction, evidence)
    print(verdict.headline())
    print(f"judged against {verdict.candidate()}")
    for check in verdict.checks:
        print(f"{'PASS' if check.ok else 'FAIL'} {check.name}: {check.message}")
    return 0 if verdict.ok else 1
