#!/usr/bin/env python3
"""Writes a synthetic dbt project for generation benchmarks.

    python3 bench/gen_manifest.py (--models M | --nodes N) --out DIR [--seed S]
        [--compiled] [--write-files]

DIR gets dbt_project.yml (project and profile `synth`), profiles.yml (DuckDB,
synth.duckdb) and target/manifest.json: a dbt 1.12 manifest (schema v12)
with M models in models/staging, models/intermediate and models/marts whose
refs form a layered DAG, two generic tests per model (not_null, then unique
or, for about one model in seven, relationships to a parent model: two
parents), a seed per 50 models and a source per 20 that the staging models
select from. --nodes N instead sizes it to exactly N executable nodes
(seeds + models + tests).

Every node carries the fields `dbt parse` writes, checked against a real
manifest of examples/planalign (raw_code, documented columns, the full
config, checksum, refs, sources, test_metadata, ...); with --compiled also
what `dbt compile` adds (compiled_code, compiled_path, extra_ctes). The file
holds some 500 macros of the dbt and dbt_duckdb packages, as a real one
does. Sizes are those of a large real project: a model about 4.9 KB (some
1,300 characters of SQL, 2 to 4 documented columns, a description of a few
sentences), a test about 2 KB, so that 10,000 models and 20,000 tests make
98 MB (--models 10000), the size issue 11's generation target is set at.

The output depends only on the size and --seed. The model, seed and macro
files are not written unless --write-files is given: pa-gen does not read
them when it is given the manifest. Generate without dbt:

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
TESTS_PER_MODEL = 2  # not_null, then unique or relationships

DOMAINS = ["crm", "erp", "billing", "web", "hr", "inventory", "support", "marketing",
           "finance", "logistics"]
NOUNS = ["orders", "customers", "invoices", "payments", "sessions", "employees", "products",
         "tickets", "campaigns", "shipments", "accounts", "contracts", "events", "refunds",
         "subscriptions", "suppliers", "warehouses", "leads", "opportunities", "budgets"]
COLUMN_WORDS = ["id", "amount", "status", "created_at", "updated_at", "region", "channel",
                "currency", "quantity", "price", "discount", "tax", "owner_id", "category",
                "segment", "score", "plan", "country", "source", "is_active", "tier",
                "balance", "margin", "priority", "cohort", "territory", "sku", "vendor_id"]
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
    def __init__(self, seed, nodes=None, models=None, compiled=False):
        self.rng = random.Random(seed)
        self.compiled = compiled
        if models is not None:
            if models < 1:
                sys.exit("gen_manifest: --models must be at least 1")
            seeds = max(1, models // 50)
        else:
            if nodes < 4:
                sys.exit("gen_manifest: --nodes must be at least 4 (a seed, a model and its tests)")
            models = max(1, (nodes - max(1, nodes // 150)) // (1 + TESTS_PER_MODEL))
            seeds = nodes - (1 + TESTS_PER_MODEL) * models  # exactly N executable nodes
        self.n_seeds, self.n_models = seeds, models
        self.n_sources = max(1, models // 20)
        self.nodes = {}  # unique_id -> node, in dbt's parse order (seeds, models, tests)
        self.macros = {}
        self.project_macros = []
        self.files = {}  # path relative to the project -> content, for --write-files

    def compiled_fields(self, path, code):
        """What `dbt compile` (or run, build) adds to a node that `dbt parse`
        leaves out."""
        if not self.compiled:
            return {"compiled_path": None}
        return {"compiled_path": path, "compiled": True, "compiled_code": code,
                "extra_ctes_injected": True, "extra_ctes": []}

    # ----- macros -----
    def make_macros(self):
        rng = self.rng
        names = []
        for package, count in (("dbt", 420), ("dbt_duckdb", 70)):
            for i in range(count):
                verb = rng.choice(["get", "make", "build", "render", "default__", "create",
                                   "drop", "alter", "check", "materialization"])
                names.append((package, f"{verb}_{rng.choice(NOUNS)}_{i}"))
        generic = {}  # the generic tests' macros and what each calls
        for kind in ("not_null", "unique", "relationships"):
            generic[f"test_{kind}"] = [f"macro.dbt.default__test_{kind}"]
            generic[f"default__test_{kind}"] = []
        generic["get_where_subquery"] = ["macro.dbt.default__get_where_subquery"]
        generic["default__get_where_subquery"] = []
        names += [("dbt", name) for name in generic]
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
            if package == "dbt" and name in generic:
                deps = generic[name]
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

    # ----- sources -----
    def make_sources(self):
        """Tables of the raw schema that staging models select from: not
        executed, so they are only parents in the manifest."""
        self.sources, self.source_ids = {}, []
        for i in range(self.n_sources):
            domain = DOMAINS[i % len(DOMAINS)]
            source_name = f"raw_{domain}"
            name = f"{domain}_{NOUNS[(i // len(DOMAINS)) % len(NOUNS)]}_{i}"
            uid = f"source.{PROJECT}.{source_name}.{name}"
            yml = f"models/staging/{domain}/_{domain}__sources.yml"
            cols = ["id"] + self.rng.sample(COLUMN_WORDS[1:], 4)
            freshness = {"warn_after": {"count": 12, "period": "hour"},
                         "error_after": {"count": 24, "period": "hour"}, "filter": None}
            self.sources[uid] = {
                "database": DATABASE, "schema": source_name, "name": name,
                "resource_type": "source", "package_name": PROJECT, "path": yml,
                "original_file_path": yml, "unique_id": uid,
                "fqn": [PROJECT, "staging", domain, source_name, name],
                "source_name": source_name,
                "source_description": f"Raw tables of the {domain} system, loaded hourly.",
                "loader": "fivetran", "identifier": name,
                "quoting": {"database": None, "schema": None, "identifier": None, "column": None},
                "loaded_at_field": "_loaded_at", "loaded_at_query": None, "freshness": freshness,
                "external": None,
                "description": " ".join(self.rng.choice(SENTENCES) for _ in range(2)),
                "columns": {c: column(c, self.rng.choice(SENTENCES)) for c in cols},
                "meta": {}, "source_meta": {}, "tags": [],
                "config": {"enabled": True, "event_time": None, "freshness": freshness,
                           "loaded_at_field": "_loaded_at", "loaded_at_query": None,
                           "meta": {}, "tags": [], "static_analysis": None},
                "patch_path": None, "unrendered_config": {"loaded_at_field": "_loaded_at"},
                "relation_name": relation(name, source_name), "created_at": CREATED_AT,
                "unrendered_database": None, "unrendered_schema": None, "doc_blocks": [],
            }
            self.source_ids.append(uid)

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
            sources = []
            if folder == "staging":
                parents = [rng.choice(self.seed_ids)]
                sources = [self.source_ids[i % len(self.source_ids)]]
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
            uid = self.add_model(name, subdir, parents, sources)
            self.model_ids.append(uid)
            (staging if folder == "staging" else upstream).append(uid)

    def add_model(self, name, subdir, parents, sources):
        rng = self.rng
        uid = f"model.{PROJECT}.{name}"
        path = f"models/{subdir}/{name}.sql"
        folder = subdir.split("/")[0]
        cols = ["id"] + rng.sample(COLUMN_WORDS[1:], rng.randint(1, 3))
        macros = sorted(set(rng.sample(self.project_macros, rng.randint(0, 2))))
        parent_names = [p.split(".", 2)[2] for p in parents]
        ctes_raw, ctes_compiled = [], []
        for s in sources:
            src = self.sources[s]
            ctes_raw.append(f"source_rows as (\n\n    select * from {{{{ source('{src['source_name']}', "
                            f"'{src['name']}') }}}}\n    where _loaded_at is not null\n\n)")
            ctes_compiled.append(f"source_rows as (\n\n    select * from {src['relation_name']}\n"
                                 f"    where _loaded_at is not null\n\n)")
        for k, p in enumerate(parent_names):
            # Long CTEs with their own comments, as in hand-written models:
            # a large project's manifest is mostly such code, twice.
            comment = "".join(f"    -- {rng.choice(SENTENCES)}\n" for _ in range(rng.randint(0, 1)))
            listed = ",\n        ".join(cols) if k == 0 else "*"
            ctes_raw.append(f"{p} as (\n\n{comment}    select\n        {listed}\n"
                            f"    from {{{{ ref('{p}') }}}}\n\n)")
            ctes_compiled.append(f"{p} as (\n\n{comment}    select\n        {listed}\n"
                                 f"    from {relation(p)}\n\n)")
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
                  f"{rng.choice(SENTENCES)}\n" +
                  "".join(f"-- {rng.choice(SENTENCES)}\n" for _ in range(rng.randint(1, 3))))
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
        description = (f"{name.replace('_', ' ').capitalize()}. " +
                       " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 4))) +
                       f"\n\nBuilt from {', '.join(parent_names)}. " +
                       " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(0, 1))))
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
            "sources": [[self.sources[s]["source_name"], self.sources[s]["name"]] for s in sources],
            "metrics": [], "functions": [],
            "depends_on": {"macros": macros, "nodes": list(sources) + list(parents)},
            **self.compiled_fields(f"target/compiled/{PROJECT}/models/{subdir}/{name}.sql",
                                   compiled),
            "contract": {"enforced": False, "alias_types": True, "checksum": None},
            "access": "protected", "constraints": [], "version": None, "latest_version": None,
            "deprecation_date": None, "primary_key": ["id"], "time_spine": None,
        }
        return uid

    # ----- tests -----
    def make_tests(self):
        """TESTS_PER_MODEL generic tests per model, as a schema yml declares
        them: not_null on id, then unique on id, or (for about one model in
        seven with a model parent) relationships to that parent, which
        depends on two models."""
        for model_id in self.model_ids:
            model = self.nodes[model_id]
            parent = next((p for p in model["depends_on"]["nodes"] if p.startswith("model.")), None)
            self.add_test(model, "not_null", "id")
            if parent and self.rng.random() < 0.15:
                self.add_test(model, "relationships", "id", self.nodes[parent])
            else:
                self.add_test(model, "unique", "id")

    def add_test(self, model, kind, column_name, to=None):
        mname = model["name"]
        model_id = model["unique_id"]
        folder = model["original_file_path"].split("/")[1]
        yml = f"models/{folder}/_{folder}__models.yml"
        name = f"{kind}_{mname}_{column_name}" + (f"__{column_name}__ref_{to['name']}_" if to else "")
        suffix = hashlib.md5(name.encode()).hexdigest()[:10]
        uid = f"test.{PROJECT}.{name}.{suffix}"
        config = {
            "enabled": True, "alias": None, "schema": "dbt_test__audit", "database": None,
            "tags": [], "meta": {}, "group": None, "static_analysis": None,
            "materialized": "test", "severity": "ERROR", "store_failures": None,
            "store_failures_as": None, "sql_header": None, "where": None, "limit": None,
            "fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0",
        }
        kwargs = {"column_name": column_name,
                  "model": f"{{{{ get_where_subquery(ref('{mname}')) }}}}"}
        refs = [{"name": mname, "package": None, "version": None}]
        nodes = [model_id]
        macros = [f"macro.dbt.test_{kind}"]
        if kind == "not_null":
            compiled = (f"\n    \n    \n\n\n\nselect {column_name}\nfrom {relation(mname)}\n"
                        f"where {column_name} is null\n\n\n")
        elif kind == "unique":
            compiled = (f"\n    \n    \n\nselect\n    {column_name} as unique_field,\n"
                        f"    count(*) as n_records\n\nfrom {relation(mname)}\n"
                        f"where {column_name} is not null\ngroup by {column_name}\n"
                        f"having count(*) > 1\n\n\n")
        else:  # relationships: dbt lists the referenced model first
            kwargs = {"column_name": column_name, "to": f"ref('{to['name']}')", "field": column_name,
                      "model": kwargs["model"]}
            refs.insert(0, {"name": to["name"], "package": None, "version": None})
            nodes.insert(0, to["unique_id"])
            macros.append("macro.dbt.get_where_subquery")
            compiled = (f"\n    \n    \n\nwith child as (\n    select {column_name} as from_field\n"
                        f"    from {relation(mname)}\n    where {column_name} is not null\n),\n\n"
                        f"parent as (\n    select {column_name} as to_field\n"
                        f"    from {relation(to['name'])}\n)\n\nselect\n    from_field\n\n"
                        f"from child\nleft join parent\n    on child.from_field = parent.to_field\n\n"
                        f"where parent.to_field is null\n\n\n")
        self.nodes[uid] = {
            "database": DATABASE, "schema": f"{SCHEMA}_dbt_test__audit", "name": name,
            "resource_type": "test", "package_name": PROJECT, "path": f"{name}.sql",
            "original_file_path": yml,
            "unique_id": uid, "fqn": [PROJECT] + model["fqn"][1:-1] + [name],
            "alias": name, "checksum": {"name": "none", "checksum": ""}, "config": config,
            "tags": [], "description": "", "columns": {}, "meta": {}, "group": None,
            "docs": docs(), "patch_path": None,
            "build_path": None, "unrendered_config": {}, "created_at": CREATED_AT,
            "relation_name": None,
            "raw_code": f"{{{{ test_{kind}(**_dbt_generic_test_kwargs) }}}}",
            "doc_blocks": [], "language": "sql", "refs": refs,
            "sources": [], "metrics": [], "functions": [],
            "depends_on": {"macros": macros, "nodes": nodes},
            **self.compiled_fields(f"target/compiled/{PROJECT}/{yml}/{name}.sql", compiled),
            "contract": {"enforced": False, "alias_types": True, "checksum": None},
            "column_name": column_name, "file_key_name": f"models.{mname}",
            "attached_node": model_id,
            "test_metadata": {"name": kind, "kwargs": kwargs, "namespace": None},
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
        # As dbt writes them, sources included (they have no parents).
        parent_map = {uid: list(node["depends_on"].get("nodes", []))
                      for uid, node in self.nodes.items()}
        parent_map.update({uid: [] for uid in self.sources})
        child_map = {uid: [] for uid in parent_map}
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
            write_map("sources", self.sources)
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
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--models", type=int,
                      help=f"models (and {TESTS_PER_MODEL} tests each, and a seed per 50 models)")
    size.add_argument("--nodes", type=int,
                      help="executable nodes in all: seeds + models + tests")
    parser.add_argument("--out", required=True, help="project folder to write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--compiled", action="store_true",
                        help="write nodes as `dbt compile` does (with compiled_code), "
                             "not as `dbt parse` does")
    parser.add_argument("--write-files", action="store_true",
                        help="also write the model, seed and macro files (not the yml)")
    args = parser.parse_args()
    synth = Synth(args.seed, nodes=args.nodes, models=args.models, compiled=args.compiled)
    synth.make_macros()
    synth.make_seeds()
    synth.make_sources()
    synth.make_models()
    synth.make_tests()
    synth.write(args.out)
    if args.write_files:
        synth.write_files(args.out)


if __name__ == "__main__":
    main()
