-- Incremental: a build rewrites the (reading_date, subject_bucket) partitions
-- the two trusted reading tables rewrote since its last build; a pair is one
-- millisecond of one person, so it lies in the same partition as both of its
-- readings (partitions_to_rewrite).
{{ reading_table_config(inputs=['accelerometer_trusted', 'step_trainer_trusted']) }}
{%- set plan = partitions_to_rewrite() %}
{{ rewrite_plan_comment(plan) }}

with

step_trainer_trusted as (

    select * from {{ ref('step_trainer_trusted') }}

),

accelerometer_trusted as (

    select * from {{ ref('accelerometer_trusted') }}

),

curated_subjects as (

    select * from {{ ref('int_curated_subjects') }}

),

step_trainer_readings as (

    select
        sensorreadingtime,
        serialnumber,
        distancefromobject,
        sensor_reading_at,
        loaded_at,
        reading_date,
        subject_bucket

    from step_trainer_trusted
    where {{ in_partitions_to_rewrite(plan, 'reading_date', 'subject_bucket') }}

),

device_owners as (

    -- every serial in step_trainer_trusted has exactly one curated owner (R4)
    select
        serialnumber,
        email_key,
        subject_id

    from curated_subjects
    where serialnumber is not null

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
    where {{ in_partitions_to_rewrite(plan, 'reading_date', 'subject_bucket') }}

),

paired_readings as (

    -- the same person's device and phone at the same millisecond; a join on
    -- time alone would pair one person's device with another person's phone
    select
        device_owners.subject_id,
        step_trainer_readings.sensorreadingtime,
        step_trainer_readings.distancefromobject,
        accelerometer_readings.{{ adapter.quote('timestamp') }},
        accelerometer_readings.x,
        accelerometer_readings.y,
        accelerometer_readings.z,
        step_trainer_readings.sensor_reading_at,
        greatest(step_trainer_readings.loaded_at, accelerometer_readings.loaded_at) as loaded_at,
        step_trainer_readings.reading_date,
        step_trainer_readings.subject_bucket

    from step_trainer_readings
    inner join device_owners
        on step_trainer_readings.serialnumber = device_owners.serialnumber
    inner join accelerometer_readings
        on
            device_owners.email_key = accelerometer_readings.email_key
            and step_trainer_readings.sensorreadingtime = accelerometer_readings.{{ adapter.quote('timestamp') }}

)

select * from paired_readings
{{ one_file_per_partition() }}
