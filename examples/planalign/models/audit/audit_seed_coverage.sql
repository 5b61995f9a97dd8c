-- Row counts of the staged reference tables, for a quick data-quality look.
-- Nothing depends on it: a branch of the DAG independent of the simulation.
select 'stg_census' as table_name, count(*) as row_count from {{ ref('stg_census') }}
union all
select 'stg_job_levels', count(*) from {{ ref('stg_job_levels') }}
union all
select 'stg_departments', count(*) from {{ ref('stg_departments') }}
union all
select 'stg_plan_design', count(*) from {{ ref('stg_plan_design') }}
