{{ config(materialized='ephemeral') }}

-- Per-employee termination / promotion probabilities for the simulation year,
-- with a deterministic pseudo-random draw (hash of employee and year).
with demographics as (
    select * from {{ ref('int_employee_demographics') }}
),

rates as (
    select
        demographics.employee_id,
        demographics.level_id,
        demographics.age_band_id,
        demographics.tenure_band_id,
        coalesce(term.termination_rate, 0) as termination_rate,
        coalesce(promo.promotion_rate, 0) as promotion_rate,
        ({{ stable_hash("demographics.employee_id || '-term-" ~ var("simulation_year") ~ "'") }} % 10000) / 10000.0 as term_draw,
        ({{ stable_hash("demographics.employee_id || '-promo-" ~ var("simulation_year") ~ "'") }} % 10000) / 10000.0 as promo_draw
    from demographics
    left join {{ ref('stg_termination_hazard') }} as term
        on demographics.age_band_id = term.age_band_id
        and demographics.tenure_band_id = term.tenure_band_id
    left join {{ ref('stg_promotion_hazard') }} as promo
        on demographics.level_id = promo.level_id
        and demographics.tenure_band_id = promo.tenure_band_id
)

select
    employee_id,
    level_id,
    age_band_id,
    tenure_band_id,
    termination_rate,
    promotion_rate,
    term_draw < termination_rate as will_terminate,
    promo_draw < promotion_rate and term_draw >= termination_rate as will_promote
from rates
