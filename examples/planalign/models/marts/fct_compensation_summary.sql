select
    simulation_year,
    department_id,
    ending_level_id as level_id,
    count(*) as headcount,
    count(*) filter (where is_promoted) as promotions,
    {{ round_money('sum(projected_salary)') }} as total_projected_salary,
    {{ round_money('avg(projected_salary)') }} as avg_projected_salary
from {{ ref('fct_workforce_snapshot') }}
where employment_status = 'active'
group by simulation_year, department_id, ending_level_id
