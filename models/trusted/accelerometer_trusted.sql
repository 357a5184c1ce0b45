-- Incremental: a build rewrites the reading dates of newly staged readings;
-- start_over_if_consent_changed empties the table first when a consent changed.
{{ reading_table_config(
    start_over="start_over_if_consent_changed(normalize_email(adapter.quote('user')), ref('customer_trusted'), normalize_email('email'))",
) }}

with

staged_readings as (

    select * from {{ ref('stg_landing__accelerometer_readings') }}

),

customers as (

    select * from {{ ref('customer_trusted') }}

),

well_formed_readings as (

    select
        {{ adapter.quote('user') }},
        email_key,
        {{ adapter.quote('timestamp') }},
        x,
        y,
        z,
        recorded_at,
        cast(recorded_at as date) as reading_date,
        loaded_at

    from staged_readings
    where
        not is_malformed
        and email_key is not null
        and email_key != ''
        and {{ adapter.quote('timestamp') }} is not null

),

{% if is_incremental() -%}
dates_to_rebuild as (

    select reading_date from well_formed_readings
    where loaded_at > {{ last_loaded_at() }}

),

{% endif -%}
readings as (

    -- a reading delivered twice counts once, as first loaded
    select
        {{ adapter.quote('user') }},
        email_key,
        {{ adapter.quote('timestamp') }},
        x,
        y,
        z,
        recorded_at,
        reading_date,
        min(loaded_at) as loaded_at

    from well_formed_readings
    {% if is_incremental() -%}
    where reading_date in (select dates_to_rebuild.reading_date from dates_to_rebuild)
    {%- endif %}
    group by
        {{ adapter.quote('user') }},
        email_key,
        {{ adapter.quote('timestamp') }},
        x,
        y,
        z,
        recorded_at,
        reading_date

),

trusted_customers as (

    select
        {{ normalize_email('email') }} as email_key,
        sharewithresearchasofdate

    from customers

),

consented_readings as (

    select
        readings.{{ adapter.quote('user') }},
        readings.{{ adapter.quote('timestamp') }},
        readings.x,
        readings.y,
        readings.z,
        readings.recorded_at,
        readings.loaded_at,
        readings.reading_date

    from readings
    inner join trusted_customers
        on readings.email_key = trusted_customers.email_key
    where {{ within_research_consent(
        'readings.' ~ adapter.quote('timestamp'),
        'trusted_customers.sharewithresearchasofdate',
    ) }}

)

select * from consented_readings
