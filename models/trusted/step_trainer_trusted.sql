-- Incremental: a build rewrites the reading dates of newly staged readings and
-- of the earlier readings R3 newly admits; start_over_if_consent_changed
-- empties the table first when a consent changed.
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['reading_date'],
    partitioned_by=['reading_date'],
    pre_hook="{{ start_over_if_consent_changed('serialnumber', ref('customer_trusted'), 'serialnumber') }}",
) }}
-- the pre-hook reads the staged customer records too
-- depends_on: {{ ref('stg_landing__customers') }}

with

staged_readings as (

    select
        sensorreadingtime,
        serialnumber,
        distancefromobject,
        sensor_reading_at,
        cast(sensor_reading_at as date) as reading_date,
        loaded_at

    from {{ ref('stg_landing__step_trainer_readings') }}
    where
        not is_malformed
        and serialnumber is not null
        and sensorreadingtime is not null

),

serial_number_owners as (

    -- a serial number held by two people is ambiguous: it has no owner
    select
        serialnumber,
        min(email_key) as email_key

    from {{ ref('int_customer_current_records') }}
    where serialnumber is not null
    group by serialnumber
    having count(*) = 1

),

{% if is_incremental() -%}
customers_with_first_trusted_readings as (

    -- R3 admits the earlier device readings of a customer whose first
    -- trusted accelerometer reading arrived since the last build
    select {{ normalize_email(adapter.quote('user')) }} as email_key
    from {{ ref('accelerometer_trusted') }}
    group by {{ normalize_email(adapter.quote('user')) }}
    having min(loaded_at) > {{ last_loaded_at() }}

),

dates_to_rebuild as (

    select reading_date from staged_readings
    where loaded_at > {{ last_loaded_at() }}
    union
    select staged_readings.reading_date
    from staged_readings
    inner join serial_number_owners
        on staged_readings.serialnumber = serial_number_owners.serialnumber
    inner join customers_with_first_trusted_readings
        on serial_number_owners.email_key = customers_with_first_trusted_readings.email_key

),

{% endif -%}
readings as (

    select * from staged_readings
    {% if is_incremental() -%}
    where reading_date in (select dates_to_rebuild.reading_date from dates_to_rebuild)
    {%- endif %}

),

customers_with_trusted_readings as (

    -- the customers of customer_curated (R3), derived here from the trusted
    -- zone so that the lineage runs one way: trusted, then curated
    select
        {{ normalize_email('customer_trusted.email') }} as email_key,
        customer_trusted.sharewithresearchasofdate

    from {{ ref('customer_trusted') }} as customer_trusted
    where {{ normalize_email('customer_trusted.email') }} in (
        select {{ normalize_email(adapter.quote('user')) }}
        from {{ ref('accelerometer_trusted') }}
    )

),

consented_readings as (

    select
        readings.sensorreadingtime,
        readings.serialnumber,
        readings.distancefromobject,
        readings.sensor_reading_at,
        readings.reading_date,
        readings.loaded_at

    from readings
    inner join serial_number_owners
        on readings.serialnumber = serial_number_owners.serialnumber
    inner join customers_with_trusted_readings
        on serial_number_owners.email_key = customers_with_trusted_readings.email_key
    where {{ within_research_consent(
        'readings.sensorreadingtime',
        'customers_with_trusted_readings.sharewithresearchasofdate',
    ) }}

),

one_reading_per_device_and_time as (

    -- repeated deliveries collapse here, as first loaded; should a device
    -- report two distances for one millisecond, the nearest object wins
    select
        sensorreadingtime,
        serialnumber,
        sensor_reading_at,
        reading_date,
        min(distancefromobject) as distancefromobject,
        min(loaded_at) as loaded_at

    from consented_readings
    group by
        sensorreadingtime,
        serialnumber,
        sensor_reading_at,
        reading_date

),

final as (

    select
        sensorreadingtime,
        serialnumber,
        distancefromobject,
        sensor_reading_at,
        loaded_at,
        reading_date

    from one_reading_per_device_and_time

)

select * from final
