-- Incremental: a build rewrites the reading dates of newly staged readings and
-- of the earlier readings R3 newly admits; start_over_if_consent_changed
-- empties the table first when a consent changed.
{{ reading_table_config(
    start_over="start_over_if_consent_changed('serialnumber', ref('customer_trusted'), 'serialnumber')",
) }}

with

staged_readings as (

    select * from {{ ref('stg_landing__step_trainer_readings') }}

),

current_customer_records as (

    select * from {{ ref('int_customer_current_records') }}

),

customers as (

    select * from {{ ref('customer_trusted') }}

),

accelerometer_readings as (

    select * from {{ ref('accelerometer_trusted') }}

),

well_formed_readings as (

    select
        sensorreadingtime,
        serialnumber,
        distancefromobject,
        sensor_reading_at,
        cast(sensor_reading_at as date) as reading_date,
        loaded_at

    from staged_readings
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

    from current_customer_records
    where serialnumber is not null
    group by serialnumber
    having count(*) = 1

),

{% if is_incremental() -%}
customers_with_first_trusted_readings as (

    -- R3 admits the earlier device readings of a customer whose first
    -- trusted accelerometer reading arrived since the last build
    select {{ normalize_email(adapter.quote('user')) }} as email_key
    from accelerometer_readings
    group by {{ normalize_email(adapter.quote('user')) }}
    having min(loaded_at) > {{ last_loaded_at() }}

),

dates_to_rebuild as (

    select reading_date from well_formed_readings
    where loaded_at > {{ last_loaded_at() }}
    union
    select well_formed_readings.reading_date
    from well_formed_readings
    inner join serial_number_owners
        on well_formed_readings.serialnumber = serial_number_owners.serialnumber
    inner join customers_with_first_trusted_readings
        on serial_number_owners.email_key = customers_with_first_trusted_readings.email_key

),

{% endif -%}
readings as (

    select * from well_formed_readings
    {% if is_incremental() -%}
    where reading_date in (select dates_to_rebuild.reading_date from dates_to_rebuild)
    {%- endif %}

),

customers_with_trusted_readings as (

    -- the customers of customer_curated (R3), derived here from the trusted
    -- zone so that the lineage runs one way: trusted, then curated
    select
        {{ normalize_email('customers.email') }} as email_key,
        customers.sharewithresearchasofdate

    from customers
    where {{ normalize_email('customers.email') }} in (
        select {{ normalize_email(adapter.quote('user')) }}
        from accelerometer_readings
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
