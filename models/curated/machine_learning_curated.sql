with

step_trainer_readings as (

    select * from {{ ref('step_trainer_trusted') }}

),

device_owners as (

    -- every serial in step_trainer_trusted has exactly one curated owner (R4)
    select
        serialnumber,
        {{ normalize_email('email') }} as email_key

    from {{ ref('customer_curated') }}

),

accelerometer_readings as (

    select
        {{ normalize_email(adapter.quote('user')) }} as email_key,
        {{ adapter.quote('timestamp') }},
        x,
        y,
        z

    from {{ ref('accelerometer_trusted') }}

),

paired_readings as (

    -- the same person's device and phone at the same millisecond; a join on
    -- time alone would pair one person's device with another person's phone
    select
        {{ subject_id('device_owners.email_key') }} as subject_id,
        step_trainer_readings.sensorreadingtime,
        step_trainer_readings.distancefromobject,
        accelerometer_readings.{{ adapter.quote('timestamp') }},
        accelerometer_readings.x,
        accelerometer_readings.y,
        accelerometer_readings.z,
        step_trainer_readings.sensor_reading_at

    from step_trainer_readings
    inner join device_owners
        on step_trainer_readings.serialnumber = device_owners.serialnumber
    inner join accelerometer_readings
        on
            device_owners.email_key = accelerometer_readings.email_key
            and step_trainer_readings.sensorreadingtime = accelerometer_readings.{{ adapter.quote('timestamp') }}

)

select * from paired_readings
