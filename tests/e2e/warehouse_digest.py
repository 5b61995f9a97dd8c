"""Prints one line per table or view of a DuckDB file: name, row count, content checksum.

Two warehouses built from the same project state must print the same lines.
The checksum is order-independent: an md5 over the sorted rows, each cast to text.
"""
import sys

import duckdb

con = duckdb.connect(sys.argv[1], read_only=True)
relations = con.execute(
    "select table_schema, table_name from information_schema.tables "
    "where table_catalog = current_database() order by 1, 2"
).fetchall()
for schema, name in relations:
    rows, digest = con.execute(
        f'select count(*), md5(coalesce(string_agg(r::varchar, chr(10) order by r::varchar), \'\')) '
        f'from "{schema}"."{name}" r'
    ).fetchone()
    print(f"{schema}.{name} {rows} {digest}")
