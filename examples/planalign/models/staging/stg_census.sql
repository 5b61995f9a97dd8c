select
    employee_id,
    birth_date,
    hire_date,
    level_id,
    department_id,
    location_id,
    plan_id,
    {{ round_money('annual_salary') }} as annual_salary,
    deferral_rate,
    lower(performance_rating) as performance_rating,
    is_active
from {{ ref('census') }}
