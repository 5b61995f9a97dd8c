-- End-of-year compensation: merit + COLA, then a promotion increase for promoted employees.
with merit as (
    select * from {{ ref('int_merit_increases') }}
),

hazards as (
    select * from {{ ref('int_workforce_hazards') }}
),

levers as (
    select * from {{ ref('stg_comp_levers') }}
)

select
    merit.employee_id,
    merit.simulation_year,
    merit.level_id as starting_level_id,
    case when hazards.will_promote then least(merit.level_id + 1, 5) else merit.level_id end as ending_level_id,
    coalesce(hazards.will_promote, false) as is_promoted,
    coalesce(hazards.will_terminate, false) as is_terminated,
    merit.starting_salary,
    merit.salary_after_cola,
    case
        when hazards.will_promote then {{ round_money('merit.salary_after_cola * (1 + levers.promotion_increase)') }}
        else merit.salary_after_cola
    end as projected_salary
from merit
left join hazards on merit.employee_id = hazards.employee_id
left join levers on merit.level_id = levers.level_id
