select
    age_band_id,
    tenure_band_id,
    termination_rate
from {{ ref('termination_hazard') }}
