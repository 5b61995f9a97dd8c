select
    level_id,
    performance_rating,
    merit_rate
from {{ ref('merit_hazard') }}
