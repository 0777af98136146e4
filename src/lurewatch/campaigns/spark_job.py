"""``lurewatch campaigns --engine spark`` as a script for ``spark-submit``.

spark-submit runs Python applications given as a ``.py`` file, with the master and settings it was
told; this file is that application. Its arguments are those of ``lurewatch campaigns`` (the engine
is spark unless said otherwise). Print its path with ``python -m lurewatch.campaigns.spark_job``::

    spark-submit --master yarn --conf spark.executor.memory=8g \\
        "$(python -m lurewatch.campaigns.spark_job)" s3a://bucket/stream/ --json --no-save

The executors need lurewatch installed (or shipped with ``--archives`` as a packed environment).
"""

from __future__ import annotations

import sys


def arguments(argv: list[str]) -> list[str]:
    """The ``lurewatch`` command line for ``argv`` (the spark engine unless ``--engine`` is given)."""
    args = ["campaigns", *argv]
    if not any(a == "--engine" or a.startswith("--engine=") for a in argv):
        args += ["--engine", "spark"]
    return args


def main() -> None:
    from lurewatch.cli import main as cli_main

    sys.argv = [sys.argv[0], *arguments(sys.argv[1:])]
    cli_main()


if __name__ == "__main__":
    # run by spark-submit (or python FILE ...): the campaigns command; `python -m` alone: the path
    if __spec__ is not None and len(sys.argv) == 1:
        print(__file__)
    else:
        main()
