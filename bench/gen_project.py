#!/usr/bin/env python3
"""Writes a synthetic dbt project for DuckDB (or PostgreSQL), for the benchmarks in bench/run.py.

    python3 bench/gen_project.py --shape chain --models 100 --out DIR
        [--cost-ms MS [--rows-per-ms R]] [--threads N] [--adapter postgres]

Every project has one tiny seed (`seed_source`, 3 rows), N table models in
folders, one not_null test per model, and a profile that writes DIR/bench.duckdb.
Shapes (how the models ref each other):

  chain    N/4 independent chains of depth 4: base -> staging -> intermediate
           -> marts, one model per folder and chain
  wide     N independent models in one folder, each reading the seed
  layered  4 folders of N/4 models; each model joins 3 random models of the
           folder before it (fan-in and fan-out between folders)
  diamond  folders of 10%, 40%, 40% and 10% of N: each base model fans out
           to 4 staging models, each intermediate model joins 2 neighbouring
           staging models, each mart joins 4 intermediate models
  crosslinked  4 folders of N/4 models; model i refs model i of the folder
           before, and every 7th also a random model of an earlier folder
           (the shape of issue 11's measurements)

--extras adds what real projects have and the plain shapes lack (issue 14):
12 singular tests that depend on no model (over a source, or over nothing),
3 on-run-start hooks, and a local package (`bench_pkg`, in pkg/, installed
by `dbt deps` without a network) with a seed and two models that root
models ref; the root project overrides the package seed's config in its own
yml. Run `dbt deps` in the project before building it.

Tables are tiny, so dbt's own overhead dominates. With --cost-ms each model
also sums hashes over a range sized to take about MS milliseconds on one
DuckDB thread (R rows per ms, measured by bench/run.py), so that scheduling
matters. DuckDB runs each query on one thread: parallelism comes from dbt's
--threads alone, as in a batch that pa-gen runs.

--adapter postgres writes a profile for a PostgreSQL server instead, every
setting from the environment that scripts/pg-server.sh prints (PA_PG_HOST,
PA_PG_PORT, PA_PG_USER, PA_PG_PASSWORD, PA_PG_DATABASE; bench/run.py writes
each working copy's own database name in its place). There a model's work
is `pg_sleep` of MS milliseconds: in a real deployment the server's work
is done on the server's own cores, and here the server shares the
machine's two cores with every dbt process, so CPU work would measure the
box rather than how the dbt processes are scheduled. (--extras is
DuckDB-only: its hooks write DuckDB's `main` schema.)

DIR/bench.json tells the harness what it needs without parsing the project:
the nodes in topological order, the model to edit as a leaf, the staging
model to edit (the one whose edit rebuilds closest to 8 nodes of 6 to 10:
itself, its descendants and their tests), the model to break, and the text
replacements that do it.
"""

import argparse
import json
import os
import random
import sys

PROJECT = "bench"
SEED = "seed_source"
FOLDERS = ["base", "staging", "intermediate", "marts"]
PREFIX = {"base": "base", "staging": "stg", "intermediate": "int", "marts": "mart", "wide": "wide"}

# Every model selects this literal. Replacing it changes the file's checksum,
# so dbt's state:modified and pa-gen's fingerprints both see the edit, and it
# changes no column, so downstream SQL stays valid.
VERSION_TEXT = "'v0' as version"
EDIT_TEXT = "'v1' as version"
# A column that does not exist: dbt parses the file, the run fails in DuckDB.
BREAK_TEXT = "no_such_column as version"

DEFAULT_ROWS_PER_MS = 250_000  # one DuckDB thread on the 2-core machine of the README


def layer_sizes(shape, n):
    """Models per folder, in dependency order, summing to n."""
    if shape == "wide":
        return {"wide": n}
    if shape == "diamond":
        fractions = [0.1, 0.4, 0.4]
        sizes = [max(1, round(n * f)) for f in fractions]
        sizes.append(n - sum(sizes))
    else:  # chain, layered, crosslinked: equal folders
        sizes = [n // 4 + (1 if i < n % 4 else 0) for i in range(4)]
    if min(sizes) < 1:
        sys.exit(f"gen_project: {shape} needs at least 4 models per folder split, got {n}")
    return dict(zip(FOLDERS, sizes))


def parents_of(shape, folder, index, size, previous, earlier, rng):
    """Names of the models that model `index` of `folder` (`size` models)
    refs; `previous` holds the model names of the folder before it (None for
    the first folder), `earlier` those of every folder before it."""
    if previous is None:
        return [SEED]
    if shape == "chain":
        return [previous[index]]
    if shape == "crosslinked":
        parents = [previous[index]]
        if index % 7 == 0 and earlier:
            extra = rng.choice(earlier)
            if extra not in parents:
                parents.append(extra)
        return parents
    if shape == "layered":
        return rng.sample(previous, min(3, len(previous)))
    # diamond: fan out from base, cross-link in the middle, fan in to marts
    if folder == "staging":
        return [previous[index * len(previous) // size]]
    if folder == "intermediate":
        return sorted({previous[index], previous[(index + 1) % len(previous)]})
    return previous[index::size]


def model_sql(parents, cost_rows, sleep_ms=0):
    """A table model that joins its parents on id; with sleep_ms (PostgreSQL)
    its work is a pg_sleep instead of DuckDB's sum over cost_rows rows."""
    first = f"{{{{ ref('{parents[0]}') }}}} p0"
    joins = "".join(f"\njoin {{{{ ref('{p}') }}}} p{i} using (id)" for i, p in enumerate(parents[1:], 1))
    value = " + ".join(f"p{i}.value" for i in range(len(parents)))
    work = f",\n    (select sum(hash(i)) from range({cost_rows}) t(i)) as work" if cost_rows else ""
    if sleep_ms:
        work = f",\n    (select 0 from pg_sleep({sleep_ms / 1000:g})) as work"
    return (f"select\n    p0.id,\n    {VERSION_TEXT},\n    {value} + 1 as value{work}\n"
            f"from {first}{joins}\n")


def schema_yml(names):
    """One not_null test per model."""
    lines = ["version: 2", "models:"]
    for name in names:
        lines += [f"  - name: {name}", "    columns:", "      - name: id",
                  "        data_tests: [not_null]"]
    return "\n".join(lines) + "\n"


PACKAGE = "bench_pkg"
PARENTLESS_TESTS = 12
# Idempotent, as hooks must be: every batch runs them again. The first also
# creates the table that the source and its tests read.
HOOKS = ["create table if not exists main.raw_events as select 1 as id, 'a' as what",
         "create table if not exists main.hook_log (logged_at timestamp, what varchar)",
         "insert into main.hook_log values (current_timestamp, 'run started')"]


POSTGRES_PROFILE = """{project}:
  target: dev
  outputs:
    dev:
      type: postgres
      host: "{{{{ env_var('PA_PG_HOST') }}}}"
      port: "{{{{ env_var('PA_PG_PORT', '5432') | as_number }}}}"
      user: "{{{{ env_var('PA_PG_USER') }}}}"
      password: "{{{{ env_var('PA_PG_PASSWORD', '') }}}}"
      dbname: "{{{{ env_var('PA_PG_DATABASE') }}}}"
      schema: main
      threads: {threads}
"""


def project_files(threads, extras=False, adapter="duckdb"):
    hooks = "".join(f'  - "{h}"\n' for h in HOOKS)
    project = (f"name: {PROJECT}\nversion: '1.0.0'\nconfig-version: 2\nprofile: {PROJECT}\n"
               "model-paths: [models]\nseed-paths: [seeds]\n" +
               (f"on-run-start:\n{hooks}" if extras else "") +
               f"models:\n  {PROJECT}:\n    +materialized: table\n")
    # dbt and pa-gen run with the project as working directory, so the
    # relative path keeps the database inside the project copy.
    profiles = (f"{PROJECT}:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                f"      path: {PROJECT}.duckdb\n      threads: {threads}\n"
                "      settings:\n        threads: 1\n")
    if adapter == "postgres":
        profiles = POSTGRES_PROFILE.format(project=PROJECT, threads=threads)
    files = {"dbt_project.yml": project, "profiles.yml": profiles,
             f"seeds/{SEED}.csv": "id,value\n1,10\n2,20\n3,30\n"}
    if extras:
        files.update(extra_files())
    return files


def extra_files():
    """The local package, the source and the tests that depend on no model."""
    files = {
        "packages.yml": f"packages:\n  - local: pkg\n",
        "pkg/dbt_project.yml": (f"name: {PACKAGE}\nversion: '1.0.0'\nconfig-version: 2\n"
                                "model-paths: [models]\nseed-paths: [seeds]\n"
                                f"models:\n  {PACKAGE}:\n    +materialized: table\n"),
        "pkg/seeds/pkg_seed.csv": "id,value\n1,1\n2,2\n3,3\n",
        "pkg/models/pkg_base.sql": "select id, value from {{ ref('pkg_seed') }}\n",
        "pkg/models/pkg_dim.sql": "select id, value * 2 as value from {{ ref('pkg_base') }}\n",
        "pkg/models/_pkg.yml": schema_yml(["pkg_base", "pkg_dim"]),
        "models/_sources.yml": ("version: 2\nsources:\n  - name: raw\n    schema: main\n"
                                "    tables:\n      - name: raw_events\n"),
    }
    for i in range(PARENTLESS_TESTS):
        body = ("select id from {{ source('raw', 'raw_events') }} where id is null"
                if i % 2 == 0 else "select 1 as id where 1 = 0")
        files[f"tests/assert_parentless_{i:02d}.sql"] = body + "\n"
    return files


def staging_to_edit(names_by_folder, parents_by_name):
    """The staging model whose edit rebuilds closest to 8 nodes (it, its
    descendants, one test each), preferring 6 to 10; None without staging."""
    children = {}
    for name, parents in parents_by_name.items():
        for p in parents:
            children.setdefault(p, []).append(name)

    def rebuilt(name):
        seen, todo = {name}, [name]
        while todo:
            for c in children.get(todo.pop(), []):
                if c not in seen:
                    seen.add(c)
                    todo.append(c)
        return 2 * len(seen)

    staging = names_by_folder.get("staging", [])
    return min(staging, key=lambda m: (not 6 <= rebuilt(m) <= 10, abs(rebuilt(m) - 8)),
               default=None), rebuilt


def generate(shape, n, cost_rows, threads, seed=1, extras=False, adapter="duckdb", sleep_ms=0):
    """Returns (files: {relative path: text}, meta: dict for bench.json)."""
    rng = random.Random(seed)
    files = project_files(threads, extras, adapter)
    names_by_folder, parents_by_name = {}, {}
    previous, earlier = None, []
    for folder, size in layer_sizes(shape, n).items():
        names = [f"{PREFIX[folder]}_{i:05d}" for i in range(size)]
        for i, name in enumerate(names):
            parents_by_name[name] = parents_of(shape, folder, i, size, previous, earlier, rng)
            if extras and folder == "intermediate" and i == 0:
                parents_by_name[name] = parents_by_name[name] + ["pkg_dim"]
            files[f"models/{folder}/{name}.sql"] = model_sql(parents_by_name[name], cost_rows, sleep_ms)
        files[f"models/{folder}/_{folder}.yml"] = schema_yml(names)
        names_by_folder[folder] = names
        previous = names
        earlier = earlier + names
    path = {name: f"models/{folder}/{name}.sql"
            for folder, names in names_by_folder.items() for name in names}
    leaf = list(names_by_folder.values())[-1][0]
    # The model broken is the leaf's parent (intermediate), so it has a
    # descendant. In `wide` every model reads the seed alone: nothing is in
    # the middle, the leaf breaks.
    parent = parents_by_name[leaf][0]
    staging, rebuilt = staging_to_edit(names_by_folder, parents_by_name)
    package = ["pkg_seed", "pkg_base", "pkg_dim"] if extras else []
    parentless = [f"assert_parentless_{i:02d}" for i in range(PARENTLESS_TESTS)] if extras else []
    meta = {
        "shape": shape, "models": n + (2 if extras else 0), "seeds": 2 if extras else 1,
        "tests": n + (2 + PARENTLESS_TESTS if extras else 0), "cost_rows": cost_rows,
        "extras": extras, "adapter": adapter, "hooks": len(HOOKS) if extras else 0,
        "parentless_tests": len(parentless),
        # Folders only ref the folder before them (the package comes before
        # them all), so folder order is a topological order.
        "topological_order": ([SEED] + package +
                              [m for names in names_by_folder.values() for m in names] + parentless),
        "leaf": path[leaf],
        "staging": path.get(staging),
        "staging_rebuilds": rebuilt(staging) if staging else 0,
        "broken": path.get(parent, path[leaf]),
        "version_text": VERSION_TEXT, "edit_text": EDIT_TEXT, "break_text": BREAK_TEXT,
    }
    return files, meta


def write(out, files, meta):
    for rel, text in files.items():
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump(meta, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", choices=["chain", "wide", "layered", "diamond", "crosslinked"],
                    required=True)
    ap.add_argument("--extras", action="store_true",
                    help="parentless tests, on-run-start hooks and a local package (issue 14)")
    ap.add_argument("--models", type=int, required=True)
    ap.add_argument("--out", required=True, help="must not exist or be empty")
    ap.add_argument("--cost-ms", type=float, default=0, help="time each model's query takes")
    ap.add_argument("--rows-per-ms", type=int, default=DEFAULT_ROWS_PER_MS,
                    help="rows of the cost query one DuckDB thread sums per ms")
    ap.add_argument("--threads", type=int, default=4, help="the profile's dbt threads")
    ap.add_argument("--adapter", choices=["duckdb", "postgres"], default="duckdb",
                    help="postgres: a profile for scripts/pg-server.sh's server, pg_sleep as the work")
    args = ap.parse_args()
    if args.models < 4 and args.shape != "wide":
        sys.exit(f"gen_project: --shape {args.shape} needs --models >= 4")
    if os.path.exists(args.out) and os.listdir(args.out):
        sys.exit(f"gen_project: {args.out} is not empty")
    if args.adapter == "postgres" and args.extras:
        sys.exit("gen_project: --extras is DuckDB-only")
    postgres = args.adapter == "postgres"
    cost_rows = 0 if postgres else round(args.cost_ms * args.rows_per_ms)
    files, meta = generate(args.shape, args.models, cost_rows, args.threads, extras=args.extras,
                           adapter=args.adapter, sleep_ms=args.cost_ms if postgres else 0)
    meta["cost_ms"] = args.cost_ms
    write(args.out, files, meta)


if __name__ == "__main__":
    main()
