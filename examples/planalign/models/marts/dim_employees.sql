with census as (
    select * from {{ ref('stg_census') }}
)

select
    census.employee_id,
    census.birth_date,
    census.hire_date,
    census.is_active,
    census.level_id,
    levels.level_name,
    census.department_id,
    departments.department_name,
    census.location_id,
    locations.city,
    locations.state,
    census.plan_id,
    {{ round_money('census.annual_salary * locations.geo_differential') }} as geo_adjusted_salary
from census
left join {{ ref('stg_job_levels') }} as levels
    on census.level_id = levels.level_id
left join {{ ref('stg_departments') }} as departments
    on census.department_id = departments.department_id
left join {{ ref('locations') }} as locations
    on census.location_id = locations.location_id
