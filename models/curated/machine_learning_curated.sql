-- Incremental: a build rewrites the reading dates that gained trusted
-- readings; start_over_if_consent_changed empties the table first when a
-- consent changed.
{{ reading_table_config(
    start_over="start_over_if_consent_changed('subject_id', ref('customer_curated'), subject_id(normalize_email('email')))",
) }}

with

step_trainer_trusted as (

    select * from {{ ref('step_trainer_trusted') }}

),

accelerometer_trusted as (

    select * from {{ ref('accelerometer_trusted') }}

),

customers as (

    select * from {{ ref('customer_curated') }}

),

{% if is_incremental() -%}
dates_to_rebuild as (

    -- a pair is one millisecond of one person: it falls on the date of both readings
    select reading_date from step_trainer_trusted
    where loaded_at > {{ last_loaded_at() }}
    union
    select reading_date from accelerometer_trusted
    where loaded_at > {{ last_loaded_at() }}

),

{% endif -%}
step_trainer_readings as (

    select * from step_trainer_trusted
    {% if is_incremental() -%}
    where reading_date in (select dates_to_rebuild.reading_date from dates_to_rebuild)
    {%- endif %}

),

device_owners as (

    -- every serial in step_trainer_trusted has exactly one curated owner (R4)
    select
        serialnumber,
        {{ normalize_email('email') }} as email_key

    from customers

),

accelerometer_readings as (

    select
        {{ normalize_email(adapter.quote('user')) }} as email_key,
        {{ adapter.quote('timestamp') }},
        x,
        y,
        z,
        loaded_at

    from accelerometer_trusted
    {% if is_incremental() -%}
    where reading_date in (select dates_to_rebuild.reading_date from dates_to_rebuild)
    {%- endif %}

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
        step_trainer_readings.sensor_reading_at,
        greatest(step_trainer_readings.loaded_at, accelerometer_readings.loaded_at) as loaded_at,
        step_trainer_readings.reading_date

    from step_trainer_readings
    inner join device_owners
        on step_trainer_readings.serialnumber = device_owners.serialnumber
    inner join accelerometer_readings
        on
            device_owners.email_key = accelerometer_readings.email_key
            and step_trainer_readings.sensorreadingtime = accelerometer_readings.{{ adapter.quote('timestamp') }}

)

select * from paired_readings
