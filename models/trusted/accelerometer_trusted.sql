with

readings as (

    -- a reading delivered twice counts once
    select distinct
        {{ adapter.quote('user') }},
        email_key,
        {{ adapter.quote('timestamp') }},
        x,
        y,
        z,
        recorded_at

    from {{ ref('stg_landing__accelerometer_readings') }}
    where
        not is_malformed
        and email_key is not null
        and email_key != ''
        and {{ adapter.quote('timestamp') }} is not null

),

trusted_customers as (

    select
        {{ normalize_email('email') }} as email_key,
        sharewithresearchasofdate

    from {{ ref('customer_trusted') }}

),

consented_readings as (

    select
        readings.{{ adapter.quote('user') }},
        readings.{{ adapter.quote('timestamp') }},
        readings.x,
        readings.y,
        readings.z,
        readings.recorded_at

    from readings
    inner join trusted_customers
        on readings.email_key = trusted_customers.email_key
    where {{ within_research_consent(
        'readings.' ~ adapter.quote('timestamp'),
        'trusted_customers.sharewithresearchasofdate',
    ) }}

)

select * from consented_readings
