-- The seed system's Athena check: how many rows each zone holds. On the
-- starter data: landing 956 / 81273 / 28680, trusted 482 / 32025 / 11297,
-- curated 464 / 32025.
select 'landing' as zone, 'customer_landing' as table_name, count(*) as row_count
from {{ source('landing', 'customer_landing') }}
union all
select 'landing', 'accelerometer_landing', count(*)
from {{ source('landing', 'accelerometer_landing') }}
union all
select 'landing', 'step_trainer_landing', count(*)
from {{ source('landing', 'step_trainer_landing') }}
union all
select 'trusted', 'customer_trusted', count(*)
from {{ ref('customer_trusted') }}
union all
select 'trusted', 'accelerometer_trusted', count(*)
from {{ ref('accelerometer_trusted') }}
union all
select 'trusted', 'step_trainer_trusted', count(*)
from {{ ref('step_trainer_trusted') }}
union all
select 'curated', 'customer_curated', count(*)
from {{ ref('customer_curated') }}
union all
select 'curated', 'machine_learning_curated', count(*)
from {{ ref('machine_learning_curated') }}
