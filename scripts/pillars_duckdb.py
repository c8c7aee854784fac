#!/usr/bin/env python3
"""Runs freight's pillar SQL in DuckDB over the fact tables `freight report --facts-dir DIR`
wrote, and prints the result rows as JSON.

The SQL (DIR/pillars.sql) runs unchanged; the one translation is the file format: the facts are
CSV, so their column types are declared here (the same types freight's Arrow tables have).

    python3 scripts/pillars_duckdb.py DIR [team|person|cost_centre|repo|tool|model|all]
"""
import json
import pathlib
import sys

import duckdb

DIMENSIONS = ["person", "team", "cost_centre", "repo", "tool", "model"]
TOKENS = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
          "cache_write_1h_tokens", "reasoning_tokens"]
TYPES = {
    "spend": [(d, "VARCHAR") for d in DIMENSIONS]
    + [("session", "VARCHAR"), ("fate", "VARCHAR"), ("evidence", "VARCHAR"), ("amount", "DECIMAL(38,18)")],
    "session_usage": [(d, "VARCHAR") for d in DIMENSIONS]
    + [("session", "VARCHAR")]
    + [(t, "UBIGINT") for t in TOKENS]
    + [("calls", "UBIGINT"), ("unpriced_calls", "UBIGINT"), ("cost", "DECIMAL(38,18)")],
    "outputs": [(d, "VARCHAR") for d in DIMENSIONS]
    + [("kind", "VARCHAR"), ("at", "BIGINT"), ("quantity", "DOUBLE"), ("ai", "BOOLEAN"),
       ("lines_added", "UBIGINT"), ("surviving_lines", "UBIGINT"), ("reworked_lines", "UBIGINT"),
       ("deployed", "BOOLEAN")],
}


def main() -> None:
    facts = pathlib.Path(sys.argv[1])
    cut = sys.argv[2] if len(sys.argv) > 2 else "team"
    if cut not in DIMENSIONS + ["all"]:
        sys.exit(f"unknown cut {cut!r}")
    con = duckdb.connect()
    for table, columns in TYPES.items():
        declared = ", ".join(f"'{name}': '{kind}'" for name, kind in columns)
        path = str(facts / f"{table}.csv").replace("'", "''")
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}', header = true, columns = {{{declared}}})")
    sql = (facts / "pillars.sql").read_text().replace("{cut}", "COALESCE(NULLIF(team, team), 'all')" if cut == "all" else cut)
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    rows = [{name: (None if value is None else str(value)) for name, value in zip(names, row)}
            for row in cursor.fetchall()]
    json.dump(rows, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
