"""Entry point of ``python -m cli`` and the ``marketplace-jobs`` console script."""

from __future__ import annotations

import sys

from cli.app import run


def main(argv: list[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
