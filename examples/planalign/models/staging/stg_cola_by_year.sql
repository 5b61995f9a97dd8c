select
    plan_year,
    cola_rate
from {{ ref('cola_by_year') }}
