#!/usr/bin/env python3
"""Runs freight's report SQL in DuckDB over the Parquet files freight wrote, and prints the
result as JSON.

    python3 scripts/pillars_duckdb.py FACTS [team|person|cost_centre|repo|tool|model|all]
                                      [--dataset DATASET] [--timing]

FACTS is what `freight report --facts-dir FACTS` wrote: the fact tables (spend, session_usage,
outputs), model_prices, and the SQL texts. `pillars.sql` runs over the facts unchanged but for
its `{cut}` placeholder. With --dataset (what `--export-dataset` wrote, or `freight bench report`
generated), the two reductions of `usage` the facts start from run too, over the dataset's
usage Parquet files: `session_grain.sql` (every session's calls summed per model, speed, price
band and day, priced) and `session_places.sql`, with one documented translation (DataFusion's
`CAST(ts AS BIGINT)` of a timestamp is DuckDB's `epoch_ms(ts)`).

Output: {"pillars": [rows], "sessions": {count, calls, cost}, "seconds": {...}}.
"""
import json
import pathlib
import sys
import time

import duckdb

DIMENSIONS = ["person", "team", "cost_centre", "repo", "tool", "model"]


def translate(sql: str) -> str:
    """DataFusion SQL to DuckDB SQL: the only difference freight's queries hit."""
    return sql.replace("CAST(ts AS BIGINT)", "epoch_ms(ts)")


def quoted(path: pathlib.Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def main() -> None:
    flags = sys.argv[1:]
    dataset = None
    if "--dataset" in flags:
        at = flags.index("--dataset")
        dataset = pathlib.Path(flags[at + 1])
        del flags[at:at + 2]
    args = [a for a in flags if not a.startswith("--")]
    facts = pathlib.Path(args[0])
    cut = args[1] if len(args) > 1 else "team"
    if cut not in DIMENSIONS + ["all"]:
        sys.exit(f"unknown cut {cut!r}")
    con = duckdb.connect()
    seconds = {}
    result = {}
    if dataset is not None:
        started = time.perf_counter()
        usage = quoted(dataset / "usage" / "*.parquet")
        con.execute(f"CREATE VIEW usage AS SELECT * FROM read_parquet({usage})")
        con.execute(f"CREATE TABLE model_prices AS SELECT * FROM read_parquet({quoted(facts / 'model_prices.parquet')})")
        # Materialised, so DuckDB computes every column freight does (first and last call too).
        for name in ["session_grain", "session_places"]:
            con.execute(f"CREATE TEMP TABLE {name} AS " + translate((facts / f"{name}.sql").read_text()))
        seconds["usage"] = time.perf_counter() - started
        count, groups, calls, cost = con.execute(
            "SELECT COUNT(DISTINCT session), COUNT(*), SUM(calls), SUM(cost) FROM session_grain").fetchone()
        places, = con.execute("SELECT COUNT(*) FROM session_places").fetchone()
        result["sessions"] = {"count": count, "groups": groups, "places": places, "calls": int(calls),
                              "cost": str(cost)}
    started = time.perf_counter()
    for table in ["spend", "session_usage", "outputs"]:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet({quoted(facts / (table + '.parquet'))})")
    sql = (facts / "pillars.sql").read_text().replace(
        "{cut}", "COALESCE(NULLIF(team, team), 'all')" if cut == "all" else cut)
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    result["pillars"] = [{name: (None if value is None else str(value)) for name, value in zip(names, row)}
                         for row in cursor.fetchall()]
    seconds["pillars"] = time.perf_counter() - started
    if "--timing" in flags:
        result["seconds"] = seconds
    json.dump(result, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
