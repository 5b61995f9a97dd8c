-- Singular test: no projected or starting salary in the workforce snapshot may be negative,
-- and nobody's pay may go down over the simulation year.
select
    employee_id,
    simulation_year,
    starting_salary,
    projected_salary
from {{ ref('fct_workforce_snapshot') }}
where projected_salary < 0
    or starting_salary < 0
    or projected_salary < starting_salary
