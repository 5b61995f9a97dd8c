select
    plan_id,
    plan_name,
    auto_enroll,
    default_deferral_rate,
    vesting_years,
    eligibility_months
from {{ ref('plan_design') }}
