{{
    config(
        materialized='incremental',
        unique_key=['employee_id', 'simulation_year'],
        incremental_strategy='delete+insert'
    )
}}

-- One row per employee per simulation year. Each run (re)writes the rows of
-- var('simulation_year'); earlier years already in the table are kept.
with projection as (
    select * from {{ ref('int_compensation_projection') }}
),

hazards as (
    select * from {{ ref('int_workforce_hazards') }}
),

match as (
    select * from {{ ref('int_employer_match') }}
)

select
    projection.employee_id,
    projection.simulation_year,
    census.department_id,
    census.location_id,
    projection.starting_level_id,
    projection.ending_level_id,
    hazards.age_band_id,
    hazards.tenure_band_id,
    case when projection.is_terminated then 'terminated' else 'active' end as employment_status,
    projection.is_promoted,
    projection.starting_salary,
    projection.projected_salary,
    match.effective_deferral_rate,
    match.employer_match_rate
from projection
inner join {{ ref('stg_census') }} as census
    on projection.employee_id = census.employee_id
left join hazards
    on projection.employee_id = hazards.employee_id
left join match
    on projection.employee_id = match.employee_id
where projection.simulation_year = {{ var('simulation_year') }}
{% if is_incremental() %}
    -- only (re)process the simulation year if it is not older than what is loaded
    and {{ var('simulation_year') }} >= (select coalesce(max(simulation_year), 0) from {{ this }})
{% endif %}
