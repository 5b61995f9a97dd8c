{{ config(materialized='ephemeral') }}

-- Active employees with age / tenure as of 1 January of the simulation year,
-- bucketed into the age and tenure bands used by the hazard tables.
with census as (
    select * from {{ ref('stg_census') }}
    where is_active
),

as_of as (
    select make_date({{ var('simulation_year') }}, 1, 1) as as_of_date
),

aged as (
    select
        census.*,
        greatest(0, {{ whole_years_between('census.birth_date', 'as_of.as_of_date') }}) as age,
        greatest(0, {{ whole_years_between('census.hire_date', 'as_of.as_of_date') }}) as tenure_years
    from census
    cross join as_of
)

select
    aged.employee_id,
    aged.level_id,
    aged.department_id,
    aged.location_id,
    aged.plan_id,
    aged.annual_salary,
    aged.deferral_rate,
    aged.performance_rating,
    aged.age,
    aged.tenure_years,
    age_bands.age_band_id,
    tenure_bands.tenure_band_id
from aged
inner join {{ ref('age_bands') }} as age_bands
    on aged.age between age_bands.min_age and age_bands.max_age
inner join {{ ref('tenure_bands') }} as tenure_bands
    on aged.tenure_years between tenure_bands.min_tenure and tenure_bands.max_tenure
