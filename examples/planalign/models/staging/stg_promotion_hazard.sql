select
    level_id,
    tenure_band_id,
    promotion_rate
from {{ ref('promotion_hazard') }}
