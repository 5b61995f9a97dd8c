select sale_id, region_id, amount from {{ ref('sales') }}
