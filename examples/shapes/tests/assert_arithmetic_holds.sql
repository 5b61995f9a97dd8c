-- A singular test over no model at all: it joins a batch, never costs a
-- dbt process of its own.
select 1 as failure where 1 + 1 <> 2
