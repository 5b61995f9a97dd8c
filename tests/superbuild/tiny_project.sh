# Sourced by the superbuild tests: tiny_project DIR writes a three-model
# DuckDB dbt project there (staging: stg_a, stg_b; marts: ab).
tiny_project() {
  mkdir -p "$1/models/staging" "$1/models/marts"
  cat > "$1/dbt_project.yml" <<'YML'
name: superbuild
version: "1.0"
profile: superbuild
model-paths: ["models"]
YML
  cat > "$1/profiles.yml" <<'YML'
superbuild:
  target: dev
  outputs:
    dev: {type: duckdb, path: superbuild.duckdb, threads: 2}
YML
  echo "select 1 as id" > "$1/models/staging/stg_a.sql"
  echo "select 2 as id" > "$1/models/staging/stg_b.sql"
  echo "select * from {{ ref('stg_a') }} union all select * from {{ ref('stg_b') }}" > "$1/models/marts/ab.sql"
}
