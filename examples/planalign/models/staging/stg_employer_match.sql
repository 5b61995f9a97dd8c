select
    plan_id,
    tier,
    deferral_from,
    deferral_to,
    match_rate
from {{ ref('employer_match') }}
