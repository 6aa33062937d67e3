"""`halab`: one entry point, one module per sub-command (registry as data).

Every user-fixable problem is a HalabError: printed as one line on stderr with its exit code,
never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Sequence

from halab import interrupt
from halab.errors import HalabError
from halab.report.redact import env_secrets, redacted_stdio

# sub-command name -> module under halab.cli that provides register(parser) and run(args) -> int
COMMANDS: dict[str, str] = {
    "up": "lab",
    "down": "lab",
    "status": "lab",
    "ssh": "lab",
    "image": "lab",
    "check-config": "check_config",
    "parse": "parse",
    "expect": "expect",
    "deploy": "deploy",
    "judge": "judge",
}

# What a first signal does to a command that changes the lab (the others simply end).
ON_STOP: dict[str, str] = {
    "up": "stopping; what was half-built is removed",
    "deploy": "stopping the deploy; the lab stays up (`halab down` removes it)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="halab", description=__doc__.splitlines()[0] if __doc__ else None)
    subs = parser.add_subparsers(dest="command", required=True)
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(f"halab.cli.{module_name}")
        except ModuleNotFoundError as err:
            if err.name != f"halab.cli.{module_name}":
                raise
            continue  # a command whose module is not there yet is simply not offered
        sub = subs.add_parser(name, help=getattr(module, "HELP", {}).get(name))
        module.register(name, sub)
        sub.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM / SIGHUP end a command like Ctrl-C (its finally blocks run)
    interrupt.install(on_stop=ON_STOP.get(args.command, "stopping"))
    # every line a command prints (plans, progress, errors) passes the one redaction
    with redacted_stdio(env_secrets()):
        try:
            code = int(args._module.run(args))
            sys.stdout.flush()  # a reader that went away shows here, not in the interpreter's last flush
            return code
        except HalabError as err:
            print(f"halab {args.command}: {err}", file=sys.stderr)
            return err.exit_code
        except KeyboardInterrupt as err:
            print(f"halab {args.command}: interrupted ({err or 'SIGINT'})", file=sys.stderr)
            return 130
        except BrokenPipeError:  # `halab ... | head`: the reader has what it wanted; no traceback
            _quiet_stdout()
            return 0


def _quiet_stdout() -> None:
    """stdout's reader is gone: point fd 1 at /dev/null so the interpreter's last flush is silent."""
    import os

    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
