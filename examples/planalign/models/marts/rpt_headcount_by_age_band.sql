-- Reads the ephemeral int_employee_demographics directly (it is inlined as a CTE).
with demographics as (
    select * from {{ ref('int_employee_demographics') }}
)

select
    {{ var('simulation_year') }} as simulation_year,
    bands.band_label as age_band,
    count(demographics.employee_id) as headcount,
    {{ round_money('avg(demographics.annual_salary)') }} as avg_salary,
    max(enrollment.expected_participants) as expected_participants
from {{ ref('age_bands') }} as bands
left join demographics
    on bands.age_band_id = demographics.age_band_id
left join {{ ref('int_enrollment_projection') }} as enrollment
    on bands.age_band_id = enrollment.age_band_id
group by bands.age_band_id, bands.band_label
