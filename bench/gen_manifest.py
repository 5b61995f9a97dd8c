#!/usr/bin/env python3
"""Writes a synthetic dbt project for generation benchmarks.

    python3 bench/gen_manifest.py --nodes N --out DIR [--seed S] [--write-files]

DIR gets dbt_project.yml (project and profile `synth`), profiles.yml (DuckDB,
synth.duckdb) and target/manifest.json: a dbt 1.12 manifest (schema v12) with
exactly N executable nodes: seeds (2%), models in models/staging,
models/intermediate and models/marts whose refs form a layered DAG, and one
not_null test per model. Every node carries the fields dbt writes after
`dbt compile` (raw_code, compiled_code, documented columns, the full config,
checksum, refs, ...), and the file holds a few hundred macros of the dbt and
dbt_duckdb packages, so its size is that of a real manifest of that many
nodes: 4.4 KB per node on average (44 MB for 10,000 nodes, 216 MB for
50,000): a model about 6 KB (some 1,000 characters each of raw and compiled
code, 2 to 6 documented columns), a test or a seed about 2 KB, as dbt writes
them.

The output depends only on N and --seed. The model, seed and yml files are
not written unless --write-files is given: pa-gen does not read them when it
is given the manifest. Generate without dbt:

    pa-gen --project-dir DIR --manifest DIR/target/manifest.json --dbt /bin/true

(--dbt names any executable: pa-gen needs one to write into the plan, and
does not run it when --manifest is given.)
"""

import argparse
import hashlib
import json
import os
import random
import sys

PROJECT = "synth"
DATABASE = "synth"
SCHEMA = "main"
DBT_VERSION = "1.12.0"
SCHEMA_URL = "https://schemas.getdbt.com/dbt/manifest/v12.json"
CREATED_AT = 1767225600.0  # 2026-01-01, fixed so the output is reproducible

DOMAINS = ["crm", "erp", "billing", "web", "hr", "inventory", "support", "marketing",
           "finance", "logistics"]
NOUNS = ["orders", "customers", "invoices", "payments", "sessions", "employees", "products",
         "tickets", "campaigns", "shipments", "accounts", "contracts", "events", "refunds",
         "subscriptions", "suppliers", "warehouses", "leads", "opportunities", "budgets"]
COLUMN_WORDS = ["id", "amount", "status", "created_at", "updated_at", "region", "channel",
                "currency", "quantity", "price", "discount", "tax", "owner_id", "category",
                "segment", "score", "plan", "country", "source", "is_active", "tier",
                "balance", "margin", "priority"]
TYPES = ["integer", "varchar", "decimal(14, 2)", "timestamp", "date", "boolean", "bigint"]
SENTENCES = [
    "Primary key of the table, unique and never null.",
    "Amount in the account's currency, rounded to cents after conversion.",
    "Current lifecycle status as reported by the source system at extraction time.",
    "Timestamp of the first time the record was seen in the raw layer, in UTC.",
    "Foreign key to the owning entity; null for records imported before the migration.",
    "Business segment assigned by the revenue operations mapping table.",
    "Derived from the upstream staging model; see the model description for the logic.",
    "Quantity after cancellations and returns are netted out for the period.",
]


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def docs():
    return {"show": True, "node_color": None}


def base_config(materialized):
    return {
        "enabled": True, "alias": None, "schema": None, "database": None, "tags": [],
        "meta": {}, "group": None, "static_analysis": None, "materialized": materialized,
        "incremental_strategy": None, "batch_size": None, "lookback": 1, "begin": None,
        "persist_docs": {}, "post-hook": [], "pre-hook": [], "quoting": {},
        "column_types": {}, "full_refresh": None, "unique_key": None,
        "on_schema_change": "ignore", "on_configuration_change": "apply", "grants": {},
        "packages": [], "docs": docs(), "contract": {"enforced": False, "alias_types": True},
        "event_time": None, "concurrent_batches": None,
    }


def column(name, description, data_type=None):
    return {
        "name": name, "description": description, "meta": {}, "data_type": data_type,
        "constraints": [], "quote": None, "config": {"meta": {}, "tags": []}, "tags": [],
        "granularity": None, "dimension": None, "entity": None, "doc_blocks": [],
    }


def relation(name, schema=SCHEMA):
    return f'"{DATABASE}"."{schema}"."{name}"'


class Synth:
    def __init__(self, n, seed):
        if n < 3:
            sys.exit("gen_manifest: --nodes must be at least 3 (a seed, a model and its test)")
        self.rng = random.Random(seed)
        self.n = n
        seeds = max(1, n // 50)
        models = (n - seeds) // 2
        seeds = n - 2 * models  # N = seeds + models + one test per model, exactly
        self.n_seeds, self.n_models = seeds, models
        self.nodes = {}  # unique_id -> node, in dbt's parse order (seeds, models, tests)
        self.macros = {}
        self.project_macros = []
        self.files = {}  # path relative to the project -> content, for --write-files

    # ----- macros -----
    def make_macros(self):
        rng = self.rng
        names = []
        for package, count in (("dbt", 420), ("dbt_duckdb", 70)):
            for i in range(count):
                verb = rng.choice(["get", "make", "build", "render", "default__", "create",
                                   "drop", "alter", "check", "materialization"])
                names.append((package, f"{verb}_{rng.choice(NOUNS)}_{i}"))
        names.append(("dbt", "test_not_null"))
        names.append(("dbt", "default__test_not_null"))
        for name in ["round_money", "cents_to_dollars", "safe_divide", "surrogate_key",
                     "normalize_status", "fiscal_quarter", "clean_string", "is_recent"]:
            names.append((PROJECT, name))
        for index, (package, name) in enumerate(names):
            uid = f"macro.{package}.{name}"
            # Macros call macros defined before them: no cycles, and about
            # as deep as dbt's own (what a macro uses is 6 macros on average).
            deps = []
            if index > 0 and rng.random() < (0.4 if package == PROJECT else 0.6):
                for _ in range(rng.randint(1, 3)):
                    p, nm = names[rng.randrange(index)]
                    if p != PROJECT:
                        deps.append(f"macro.{p}.{nm}")
            if name == "test_not_null":
                deps = ["macro.dbt.default__test_not_null"]
            if name == "default__test_not_null":
                deps = []
            deps = sorted(set(deps))
            args = [rng.choice(COLUMN_WORDS) for _ in range(rng.randint(1, 4))]
            body = "\n".join(
                f"  {{%- set {a}_value = {a} if {a} is not none else config.get('{a}') -%}}"
                for a in args)
            calls = "\n".join(f"  {{{{ {d.split('.')[-1]}({args[0]}) }}}}" for d in deps)
            filler = "\n".join(
                f"  {{# {rng.choice(SENTENCES)} #}}" for _ in range(rng.randint(2, 14)))
            sql = (f"{{% macro {name}({', '.join(args)}) -%}}\n{body}\n{filler}\n{calls}\n"
                   f"  select {args[0]}_value as result\n{{%- endmacro %}}")
            if package == PROJECT:
                path = f"macros/{name}.sql"
                self.project_macros.append(uid)
                self.files[path] = sql + "\n"
            else:
                path = f"macros/{rng.choice(['adapters', 'materializations', 'utils', 'relations'])}/{name}.sql"
            self.macros[uid] = {
                "name": name, "resource_type": "macro", "package_name": package,
                "path": path, "original_file_path": path, "unique_id": uid, "macro_sql": sql,
                "depends_on": {"macros": deps}, "description": "", "meta": {}, "docs": docs(),
                "config": {"meta": {}, "docs": docs()}, "patch_path": None,
                "arguments": [{"name": a, "type": None, "description": ""} for a in args],
                "created_at": CREATED_AT, "supported_languages": None,
            }

    # ----- seeds -----
    def make_seeds(self):
        self.seed_ids = []
        for i in range(self.n_seeds):
            name = f"raw_{DOMAINS[i % len(DOMAINS)]}_{NOUNS[i % len(NOUNS)]}_{i}"
            uid = f"seed.{PROJECT}.{name}"
            path = f"seeds/{name}.csv"
            cols = ["id"] + self.rng.sample(COLUMN_WORDS[1:], 4)
            csv = ",".join(cols) + "\n" + "".join(
                ",".join(str(self.rng.randint(0, 999)) for _ in cols) + "\n" for _ in range(5))
            self.files[path] = csv
            config = base_config("seed")
            config.update({"delimiter": ",", "quote_columns": False})
            self.nodes[uid] = {
                "database": DATABASE, "schema": SCHEMA, "name": name, "resource_type": "seed",
                "package_name": PROJECT, "path": f"{name}.csv", "original_file_path": path,
                "unique_id": uid, "fqn": [PROJECT, name], "alias": name,
                "checksum": {"name": "sha256", "checksum": sha256(csv)}, "config": config,
                "tags": [], "description": f"Raw extract of {name.split('_')[2]} from the "
                                           f"{name.split('_')[1]} system, loaded as a seed.",
                "columns": {c: column(c, self.rng.choice(SENTENCES)) for c in cols[:2]},
                "meta": {}, "group": None, "docs": docs(),
                "patch_path": f"{PROJECT}://seeds/_seeds.yml", "build_path": None,
                "unrendered_config": {"quote_columns": False}, "created_at": CREATED_AT,
                "relation_name": relation(name), "raw_code": "", "doc_blocks": [],
                "root_path": f"/synth/{PROJECT}", "depends_on": {"macros": []},
            }
            self.seed_ids.append(uid)

    # ----- models -----
    def make_models(self):
        rng = self.rng
        m = self.n_models
        n_staging = max(1, m * 3 // 10)
        n_marts = max(0, m * 3 // 10) if m > 2 else 0
        n_int = m - n_staging - n_marts
        layers = ([("staging", "stg")] * n_staging + [("intermediate", "int")] * n_int +
                  [("marts", None)] * n_marts)
        self.model_ids = []
        staging, upstream = [], []  # ids usable as refs by later layers
        for i, (folder, prefix) in enumerate(layers):
            domain = DOMAINS[i % len(DOMAINS)]
            noun = NOUNS[(i // len(DOMAINS)) % len(NOUNS)]
            if prefix is None:
                prefix = rng.choice(["fct", "dim", "rpt"])
            name = f"{prefix}_{domain}_{noun}_{i}"
            if folder == "staging":
                parents = [rng.choice(self.seed_ids)]
                subdir = f"staging/{domain}"
            elif folder == "intermediate":
                pool = staging + upstream[-200:]
                parents = rng.sample(pool, min(len(pool), rng.randint(1, 4)))
                subdir = f"intermediate/{domain}"
            else:
                pool = upstream[-400:] + staging[-50:]
                parents = rng.sample(pool, min(len(pool), rng.randint(1, 5)))
                subdir = "marts"
            parents = list(dict.fromkeys(parents))
            uid = self.add_model(name, subdir, parents)
            self.model_ids.append(uid)
            (staging if folder == "staging" else upstream).append(uid)

    def add_model(self, name, subdir, parents):
        rng = self.rng
        uid = f"model.{PROJECT}.{name}"
        path = f"models/{subdir}/{name}.sql"
        folder = subdir.split("/")[0]
        cols = ["id"] + rng.sample(COLUMN_WORDS[1:], rng.randint(1, 5))
        macros = sorted(set(rng.sample(self.project_macros, rng.randint(0, 2))))
        parent_names = [p.split(".", 2)[2] for p in parents]
        ctes_raw, ctes_compiled = [], []
        for p in parent_names:
            ctes_raw.append(f"{p} as (\n\n    select * from {{{{ ref('{p}') }}}}\n\n)")
            ctes_compiled.append(f"{p} as (\n\n    select * from {relation(p)}\n\n)")
        select_cols = []
        compiled_cols = []
        first = parent_names[0]
        for c in cols:
            if macros and c in ("amount", "price", "balance", "margin", "tax"):
                mac = macros[0].split(".")[-1]
                select_cols.append(f"{{{{ {mac}('{first}.{c}') }}}} as {c}")
                compiled_cols.append(f"cast(round({first}.{c}, 2) as decimal(14, 2)) as {c}")
            else:
                expr = f"{first}.{c}" if rng.random() < 0.7 else (
                    f"coalesce({first}.{c}, {rng.choice(['0', chr(39) + 'unknown' + chr(39), 'null'])})")
                select_cols.append(f"{expr} as {c}")
                compiled_cols.append(f"{expr} as {c}")
        joins = "".join(
            f"\n    left join {p} on {p}.id = {first}.{rng.choice(['id', 'owner_id'])}"
            for p in parent_names[1:])
        where = f"\nwhere {first}.id is not null" + (
            f"\n  and {first}.updated_at >= current_date - interval {rng.randint(1, 90)} day"
            if rng.random() < 0.5 else "")
        header = (f"-- {name}: {rng.choice(SENTENCES)}\n-- Owner: {rng.choice(DOMAINS)} team. "
                  f"{rng.choice(SENTENCES)}\n")
        materialized = rng.choice(["view", "table", "table", "incremental"]) \
            if folder != "staging" else "view"
        config_block = f"{{{{ config(materialized='{materialized}') }}}}\n\n" \
            if materialized != "view" else ""
        tail = ",\n        ".join(select_cols)
        ctail = ",\n        ".join(compiled_cols)
        raw = (f"{config_block}{header}\nwith {', '.join(ctes_raw)},\n\nfinal as (\n\n"
               f"    select\n        {tail}\n    from {first}{joins}{where}\n\n)\n\n"
               f"select * from final\n")
        compiled = (f"{header}\nwith {', '.join(ctes_compiled)},\n\nfinal as (\n\n"
                    f"    select\n        {ctail}\n    from {first}{joins}{where}\n\n)\n\n"
                    f"select * from final\n")
        self.files[path] = raw
        config = base_config(materialized)
        if materialized == "incremental":
            config.update({"incremental_strategy": "delete+insert", "unique_key": "id"})
        config.update({"access": "protected", "freshness": None, "on_error": None,
                       "latest_version_pointer": {"enabled": None, "alias": None}})
        unrendered = {"materialized": materialized}
        description = (f"{name.replace('_', ' ').capitalize()}. {rng.choice(SENTENCES)} "
                       f"{rng.choice(SENTENCES)} Built from {', '.join(parent_names)}.")
        self.nodes[uid] = {
            "database": DATABASE, "schema": SCHEMA, "name": name, "resource_type": "model",
            "package_name": PROJECT, "path": f"{subdir}/{name}.sql", "original_file_path": path,
            "unique_id": uid, "fqn": [PROJECT] + subdir.split("/") + [name], "alias": name,
            "checksum": {"name": "sha256", "checksum": sha256(raw)}, "config": config,
            "tags": [], "description": description,
            "columns": {c: column(c, rng.choice(SENTENCES),
                                  rng.choice(TYPES) if rng.random() < 0.3 else None)
                        for c in cols},
            "meta": {}, "group": None, "docs": docs(),
            "patch_path": f"{PROJECT}://models/{folder}/_{folder}__models.yml",
            "build_path": f"target/run/{PROJECT}/models/{subdir}/{name}.sql",
            "unrendered_config": unrendered, "created_at": CREATED_AT,
            "relation_name": relation(name), "raw_code": raw, "doc_blocks": [],
            "language": "sql",
            "refs": [{"name": p, "package": None, "version": None} for p in parent_names],
            "sources": [], "metrics": [], "functions": [],
            "depends_on": {"macros": macros, "nodes": list(parents)},
            "compiled_path": f"target/compiled/{PROJECT}/models/{subdir}/{name}.sql",
            "compiled": True, "compiled_code": compiled, "extra_ctes_injected": True,
            "extra_ctes": [], "contract": {"enforced": False, "alias_types": True,
                                           "checksum": None},
            "access": "protected", "constraints": [], "version": None, "latest_version": None,
            "deprecation_date": None, "primary_key": ["id"], "time_spine": None,
        }
        return uid

    # ----- tests -----
    def make_tests(self):
        for model_id in self.model_ids:
            model = self.nodes[model_id]
            mname = model["name"]
            folder = model["original_file_path"].split("/")[1]
            name = f"not_null_{mname}_id"
            suffix = hashlib.md5(name.encode()).hexdigest()[:10]
            uid = f"test.{PROJECT}.{name}.{suffix}"
            config = {
                "enabled": True, "alias": None, "schema": "dbt_test__audit", "database": None,
                "tags": [], "meta": {}, "group": None, "static_analysis": None,
                "materialized": "test", "severity": "ERROR", "store_failures": None,
                "store_failures_as": None, "sql_header": None, "where": None, "limit": None,
                "fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0",
            }
            compiled = (f"\n    \n    \n\n\n\nselect id\nfrom {relation(mname)}\n"
                        f"where id is null\n\n\n")
            self.nodes[uid] = {
                "database": DATABASE, "schema": f"{SCHEMA}_dbt_test__audit", "name": name,
                "resource_type": "test", "package_name": PROJECT, "path": f"{name}.sql",
                "original_file_path": f"models/{folder}/_{folder}__models.yml",
                "unique_id": uid, "fqn": [PROJECT] + model["fqn"][1:-1] + [name],
                "alias": name, "checksum": {"name": "none", "checksum": ""}, "config": config,
                "tags": [], "description": "", "columns": {}, "meta": {}, "group": None,
                "docs": docs(), "patch_path": None,
                "build_path": None, "unrendered_config": {}, "created_at": CREATED_AT,
                "relation_name": None,
                "raw_code": "{{ test_not_null(**_dbt_generic_test_kwargs) }}",
                "doc_blocks": [], "language": "sql",
                "refs": [{"name": mname, "package": None, "version": None}],
                "sources": [], "metrics": [], "functions": [],
                "depends_on": {"macros": ["macro.dbt.test_not_null"], "nodes": [model_id]},
                "compiled_path": f"target/compiled/{PROJECT}/models/{folder}/"
                                 f"_{folder}__models.yml/{name}.sql",
                "compiled": True, "compiled_code": compiled, "extra_ctes_injected": True,
                "extra_ctes": [],
                "contract": {"enforced": False, "alias_types": True, "checksum": None},
                "column_name": "id", "file_key_name": f"models.{mname}",
                "attached_node": model_id,
                "test_metadata": {
                    "name": "not_null",
                    "kwargs": {"column_name": "id",
                               "model": f"{{{{ get_where_subquery(ref('{mname}')) }}}}"},
                    "namespace": None,
                },
            }

    # ----- output -----
    def write(self, out):
        os.makedirs(os.path.join(out, "target"), exist_ok=True)
        with open(os.path.join(out, "dbt_project.yml"), "w") as f:
            f.write(f"name: {PROJECT}\nversion: '1.0.0'\nprofile: {PROJECT}\n"
                    "model-paths: [models]\nseed-paths: [seeds]\nmacro-paths: [macros]\n"
                    "clean-targets: [target]\n")
        with open(os.path.join(out, "profiles.yml"), "w") as f:
            f.write(f"{PROJECT}:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                    f"      path: {PROJECT}.duckdb\n      threads: 4\n")
        parent_map = {uid: list(node["depends_on"].get("nodes", []))
                      for uid, node in self.nodes.items()}
        child_map = {uid: [] for uid in self.nodes}
        for uid, parents in parent_map.items():
            for p in parents:
                child_map[p].append(uid)
        metadata = {
            "dbt_schema_version": SCHEMA_URL, "dbt_version": DBT_VERSION,
            "generated_at": "2026-01-01T00:00:00.000000Z",
            "invocation_id": "00000000-0000-4000-8000-000000000000",
            "invocation_started_at": "2026-01-01T00:00:00.000000Z", "env": {},
            "project_name": PROJECT, "project_id": hashlib.md5(PROJECT.encode()).hexdigest(),
            "user_id": None, "send_anonymous_usage_stats": False, "adapter_type": "duckdb",
            "quoting": {"database": True, "schema": True, "identifier": True, "column": None},
            "run_started_at": "2026-01-01T00:00:00.000000+00:00",
        }
        overview = {
            "name": "__overview__", "resource_type": "doc", "package_name": "dbt",
            "path": "overview.md", "original_file_path": "docs/overview.md",
            "unique_id": "doc.dbt.__overview__",
            "block_contents": "### Welcome!\n\nWelcome to the auto-generated documentation "
                              "for your dbt project!\n",
        }
        path = os.path.join(out, "target", "manifest.json")
        tmp = path + ".tmp"
        # Streamed one entry at a time, with dbt's separators (", " and ": ").
        with open(tmp, "w") as f:
            def write_map(key, entries, last=False):
                f.write(f"{json.dumps(key)}: {{")
                for i, (k, v) in enumerate(entries.items()):
                    f.write(f"{', ' if i else ''}{json.dumps(k)}: {json.dumps(v)}")
                f.write("}" + ("" if last else ", "))
            f.write(f'{{"metadata": {json.dumps(metadata)}, ')
            write_map("nodes", self.nodes)
            f.write('"sources": {}, ')
            write_map("macros", self.macros)
            write_map("docs", {"doc.dbt.__overview__": overview})
            f.write('"exposures": {}, "metrics": {}, "groups": {}, "selectors": {}, '
                    '"disabled": {}, ')
            write_map("parent_map", parent_map)
            write_map("child_map", child_map)
            f.write('"group_map": {}, "saved_queries": {}, "semantic_models": {}, '
                    '"unit_tests": {}, "functions": {}}')
        os.replace(tmp, path)

    def write_files(self, out):
        for rel, content in self.files.items():
            full = os.path.join(out, rel)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(content)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, required=True,
                        help="executable nodes: seeds + models + tests")
    parser.add_argument("--out", required=True, help="project folder to write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--write-files", action="store_true",
                        help="also write the model, seed and macro files (not the yml)")
    args = parser.parse_args()
    synth = Synth(args.nodes, args.seed)
    synth.make_macros()
    synth.make_seeds()
    synth.make_models()
    synth.make_tests()
    synth.write(args.out)
    if args.write_files:
        synth.write_files(args.out)


if __name__ == "__main__":
    main()
