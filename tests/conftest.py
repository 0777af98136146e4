from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EVAL_DIR = SHARED / "eval"


def eval_files() -> list[Path]:
    return sorted(EVAL_DIR.glob("*.jsonl")) if EVAL_DIR.exists() else []


@pytest.fixture
def shared_eval() -> list[Path]:
    files = eval_files()
    if not files:
        pytest.skip("../shared/eval is not present")
    return files


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole test run (starting one costs seconds).

    Skips only where pyspark or Java is missing; CI installs both (.ci/run).
    """
    import shutil

    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not __import__("os").environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for Spark")
    from lurewatch.campaigns.spark import spark_session

    session = spark_session(
        "local[2]",
        {
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            "spark.driver.memory": "2g",
            # tiny tables: compiling each query costs more than interpreting it
            "spark.sql.codegen.wholeStage": "false",
        },
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
