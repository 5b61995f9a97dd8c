select region_name from {{ ref('sales_by_region') }} order by amount desc limit 1
