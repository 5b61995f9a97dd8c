-- pivot the long lever table into one row per job level
select
    level_id,
    max(case when lever_name = 'merit_budget' then lever_value end) as merit_budget,
    max(case when lever_name = 'promotion_increase' then lever_value end) as promotion_increase
from {{ ref('comp_levers') }}
group by level_id
