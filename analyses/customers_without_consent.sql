-- The seed system's null-consent check, per zone: landing holds customers
-- without research consent; the trusted and curated zones must hold none.
select
    'landing' as data_zone,
    count(*) as customers_without_consent
from {{ source('landing', 'customer_landing') }}
where sharewithresearchasofdate is null
union all
select
    'trusted' as data_zone,
    count(*) as customers_without_consent
from {{ ref('customer_trusted') }}
where sharewithresearchasofdate is null
union all
select
    'curated' as data_zone,
    count(*) as customers_without_consent
from {{ ref('customer_curated') }}
where sharewithresearchasofdate is null
