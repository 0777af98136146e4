from __future__ import annotations

import os
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


#: A PostgreSQL database the workspace tests may empty and reuse (``.ci/run`` starts one on loopback).
PG_URL = os.environ.get("LUREWATCH_TEST_POSTGRES_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"])
def workspace_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh workspace location on each back-end (PostgreSQL skips without LUREWATCH_TEST_POSTGRES_URL)."""
    if request.param == "sqlite":
        return str(tmp_path / "nested" / "dir" / "workspace.sqlite")
    if not PG_URL:
        pytest.skip("LUREWATCH_TEST_POSTGRES_URL not set")
    from sqlalchemy import create_engine, text

    from lurewatch.store.tables import VERSION_TABLE, Base

    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
    engine.dispose()
    return PG_URL


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole test run (starting one costs seconds).

    Skips only where pyspark or Java is missing; CI installs both (.ci/run).
    """
    import shutil

    if os.environ.get("CI"):
        # CI installs both (.ci/run): a skip there would hide that the Spark engine was never tested.
        import pyspark  # noqa: F401

        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            pytest.fail("no Java runtime for Spark", pytrace=False)
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
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
