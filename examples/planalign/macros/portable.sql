{#- The few expressions that DuckDB and PostgreSQL spell differently, by adapter
    (dbt's adapter.dispatch): DuckDB's SQL is the default, so the DuckDB build
    renders what it always did. -#}

{#- Whole years from date `start` to date `end` (an age, a tenure). -#}
{% macro whole_years_between(start, end) -%}
    {{ return(adapter.dispatch('whole_years_between')(start, end)) }}
{%- endmacro %}

{% macro default__whole_years_between(start, end) -%}
    date_sub('year', {{ start }}, {{ end }})
{%- endmacro %}

{% macro postgres__whole_years_between(start, end) -%}
    cast(extract(year from age({{ end }}, {{ start }})) as bigint)
{%- endmacro %}

{#- A deterministic non-negative integer from a text: a pseudo-random draw. -#}
{% macro stable_hash(text) -%}
    {{ return(adapter.dispatch('stable_hash')(text)) }}
{%- endmacro %}

{% macro default__stable_hash(text) -%}
    hash({{ text }})
{%- endmacro %}

{% macro postgres__stable_hash(text) -%}
    cast(cast('x' || substr(md5({{ text }}), 1, 15) as bit(60)) as bigint)
{%- endmacro %}
