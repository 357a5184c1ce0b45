-- The seed system's Athena check: how many records each zone holds. On the
-- starter data: landing 956 / 81273 / 28680, trusted 482 / 32025 / 11297,
-- curated 464 / 32025.
select
    'landing' as data_zone,
    'customer_landing' as table_label,
    count(*) as records
from {{ source('landing', 'customer_landing') }}
union all
select
    'landing' as data_zone,
    'accelerometer_landing' as table_label,
    count(*) as records
from {{ source('landing', 'accelerometer_landing') }}
union all
select
    'landing' as data_zone,
    'step_trainer_landing' as table_label,
    count(*) as records
from {{ source('landing', 'step_trainer_landing') }}
union all
select
    'trusted' as data_zone,
    'customer_trusted' as table_label,
    count(*) as records
from {{ ref('customer_trusted') }}
union all
select
    'trusted' as data_zone,
    'accelerometer_trusted' as table_label,
    count(*) as records
from {{ ref('accelerometer_trusted') }}
union all
select
    'trusted' as data_zone,
    'step_trainer_trusted' as table_label,
    count(*) as records
from {{ ref('step_trainer_trusted') }}
union all
select
    'curated' as data_zone,
    'customer_curated' as table_label,
    count(*) as records
from {{ ref('customer_curated') }}
union all
select
    'curated' as data_zone,
    'machine_learning_curated' as table_label,
    count(*) as records
from {{ ref('machine_learning_curated') }}
