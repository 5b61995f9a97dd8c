select r.region_name, count(*) as sales, sum(s.amount) as amount
from {{ ref('stg_sales') }} s join {{ ref('stg_regions') }} r using (region_id)
group by r.region_name
