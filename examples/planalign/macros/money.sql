{#- Round a monetary expression to cents, as a fixed-point decimal. -#}
{% macro round_money(col) -%}
    cast(round({{ col }}, 2) as decimal(14, 2))
{%- endmacro %}

{#- Apply a cost-of-living adjustment rate (e.g. 0.025) to an amount, rounded to cents. -#}
{% macro apply_cola(amount_col, rate_col) -%}
    {{ round_money(amount_col ~ ' * (1 + ' ~ rate_col ~ ')') }}
{%- endmacro %}
