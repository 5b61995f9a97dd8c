select
    level_id,
    level_name,
    min_salary,
    max_salary,
    is_management
from {{ ref('job_levels') }}
