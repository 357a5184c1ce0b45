-- Incremental: a build rewrites the (reading_date, subject_bucket) partitions
-- of newly staged readings and of curated people whose consent or device
-- ownership changed, or who became curated (partitions_to_rewrite).
{{ reading_table_config(
    subjects='int_curated_subjects',
    subject_key='serialnumber',
    readings='stg_landing__step_trainer_readings',
    reading_key='serialnumber',
    reading_at='sensor_reading_at',
    reading_time='sensorreadingtime',
) }}
{%- set plan = partitions_to_rewrite() %}
{{ rewrite_plan_comment(plan) }}

with

staged_readings as (

    select * from {{ ref('stg_landing__step_trainer_readings') }}

),

curated_subjects as (

    select * from {{ ref('int_curated_subjects') }}

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
        and {{ on_dates_to_rewrite(plan, 'sensor_reading_at') }}

),

device_owners as (

    -- curated people (R3) who alone hold their serial number (R4)
    select
        serialnumber,
        subject_bucket,
        sharewithresearchasofdate

    from curated_subjects
    where serialnumber is not null

),

consented_readings as (

    select
        readings.sensorreadingtime,
        readings.serialnumber,
        readings.distancefromobject,
        readings.sensor_reading_at,
        readings.loaded_at,
        readings.reading_date,
        device_owners.subject_bucket

    from well_formed_readings as readings
    inner join device_owners
        on readings.serialnumber = device_owners.serialnumber
    where
        {{ within_research_consent('readings.sensorreadingtime', 'device_owners.sharewithresearchasofdate') }}
        and {{ in_partitions_to_rewrite(plan, 'readings.reading_date', 'device_owners.subject_bucket') }}

),

one_reading_per_device_and_time as (

    -- repeated deliveries collapse here, as first loaded; should a device
    -- report two distances for one millisecond, the nearest object wins
    select
        sensorreadingtime,
        serialnumber,
        sensor_reading_at,
        reading_date,
        subject_bucket,
        min(distancefromobject) as distancefromobject,
        min(loaded_at) as loaded_at

    from consented_readings
    group by
        sensorreadingtime,
        serialnumber,
        sensor_reading_at,
        reading_date,
        subject_bucket

),

final as (

    select
        sensorreadingtime,
        serialnumber,
        distancefromobject,
        sensor_reading_at,
        loaded_at,
        reading_date,
        subject_bucket

    from one_reading_per_device_and_time

)

select * from final
{{ one_file_per_partition() }}
