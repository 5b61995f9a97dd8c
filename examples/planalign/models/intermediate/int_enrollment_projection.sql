-- Expected plan participation and deferral by age band.
with demographics as (
    select * from {{ ref('int_employee_demographics') }}
)

select
    demographics.age_band_id,
    count(*) as eligible_headcount,
    max(enrollment.enrollment_rate) as enrollment_rate,
    max(deferral.avg_deferral_rate) as avg_deferral_rate,
    round(count(*) * max(enrollment.enrollment_rate), 0) as expected_participants
from demographics
left join {{ ref('enrollment_rates') }} as enrollment
    on demographics.age_band_id = enrollment.age_band_id
left join {{ ref('deferral_rates') }} as deferral
    on demographics.age_band_id = deferral.age_band_id
group by demographics.age_band_id
