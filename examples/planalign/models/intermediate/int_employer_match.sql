-- Effective deferral rate (auto-enrollment default when the employee defers 0%)
-- and the employer match rate from the tiered match formula.
with census as (
    select * from {{ ref('stg_census') }}
    where is_active
),

plans as (
    select * from {{ ref('stg_plan_design') }}
),

deferrals as (
    select
        census.employee_id,
        census.plan_id,
        case
            when census.deferral_rate = 0 and plans.auto_enroll then plans.default_deferral_rate
            else census.deferral_rate
        end as effective_deferral_rate
    from census
    inner join plans on census.plan_id = plans.plan_id
)

select
    deferrals.employee_id,
    deferrals.plan_id,
    deferrals.effective_deferral_rate,
    coalesce(sum(
        match.match_rate
        * greatest(0, least(deferrals.effective_deferral_rate, match.deferral_to) - match.deferral_from)
    ), 0) as employer_match_rate
from deferrals
left join {{ ref('stg_employer_match') }} as match
    on deferrals.plan_id = match.plan_id
group by deferrals.employee_id, deferrals.plan_id, deferrals.effective_deferral_rate
