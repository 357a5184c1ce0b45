with

readings as (

    select
        sensorreadingtime,
        serialnumber,
        distancefromobject,
        sensor_reading_at

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
        readings.sensor_reading_at

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

    -- repeated deliveries collapse here; should a device report two
    -- distances for one millisecond, the nearest object wins
    select
        sensorreadingtime,
        serialnumber,
        sensor_reading_at,
        min(distancefromobject) as distancefromobject

    from consented_readings
    group by
        sensorreadingtime,
        serialnumber,
        sensor_reading_at

),

final as (

    select
        sensorreadingtime,
        serialnumber,
        distancefromobject,
        sensor_reading_at

    from one_reading_per_device_and_time

)

select * from final
