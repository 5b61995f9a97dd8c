-- Projected employee deferrals and employer match for the simulation year.
with match as (
    select * from {{ ref('int_employer_match') }}
),

pay as (
    select * from {{ ref('int_merit_increases') }}
)

select
    match.employee_id,
    pay.simulation_year,
    match.plan_id,
    pay.salary_after_cola as eligible_pay,
    match.effective_deferral_rate,
    match.employer_match_rate,
    {{ round_money('pay.salary_after_cola * match.effective_deferral_rate') }} as employee_contribution,
    {{ round_money('pay.salary_after_cola * match.employer_match_rate') }} as employer_contribution
from match
inner join pay on match.employee_id = pay.employee_id
