-- Merit increase (by level and performance rating) followed by the year's COLA.
with census as (
    select * from {{ ref('stg_census') }}
    where is_active
),

merit as (
    select * from {{ ref('stg_merit_hazard') }}
),

cola as (
    select * from {{ ref('stg_cola_by_year') }}
    where plan_year = {{ var('simulation_year') }}
),

rated as (
    select
        census.employee_id,
        census.level_id,
        census.annual_salary as starting_salary,
        coalesce(merit.merit_rate, 0) as merit_rate,
        coalesce(cola.cola_rate, 0) as cola_rate
    from census
    left join merit
        on census.level_id = merit.level_id
        and census.performance_rating = merit.performance_rating
    left join cola on true
),

with_merit as (
    select
        *,
        {{ round_money('starting_salary * (1 + merit_rate)') }} as salary_after_merit
    from rated
)

select
    employee_id,
    {{ var('simulation_year') }} as simulation_year,
    level_id,
    starting_salary,
    merit_rate,
    cola_rate,
    salary_after_merit,
    {{ apply_cola('salary_after_merit', 'cola_rate') }} as salary_after_cola
from with_merit
