-- Incremental: a build rewrites the (reading_date, subject_bucket) partitions
-- of newly staged readings and of people whose consent changed
-- (partitions_to_rewrite).
{{ reading_table_config(
    subjects='int_research_subjects',
    subject_key='email_key',
    readings='stg_landing__accelerometer_readings',
    reading_key='email_key',
    reading_at='recorded_at',
    reading_time='timestamp',
) }}
{%- set plan = partitions_to_rewrite() %}
{{ rewrite_plan_comment(plan) }}

with

staged_readings as (

    select * from {{ ref('stg_landing__accelerometer_readings') }}

),

subjects as (

    select * from {{ ref('int_research_subjects') }}

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
        and {{ on_dates_to_rewrite(plan, 'recorded_at') }}

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
        readings.reading_date,
        subjects.subject_bucket

    from well_formed_readings as readings
    inner join subjects
        on readings.email_key = subjects.email_key
    where
        {{ within_research_consent(
            'readings.' ~ adapter.quote('timestamp'),
            'subjects.sharewithresearchasofdate',
        ) }}
        and {{ in_partitions_to_rewrite(plan, 'readings.reading_date', 'subjects.subject_bucket') }}

),

one_row_per_reading as (

    -- a reading delivered twice counts once, as first loaded
    select
        {{ adapter.quote('user') }},
        {{ adapter.quote('timestamp') }},
        x,
        y,
        z,
        recorded_at,
        min(loaded_at) as loaded_at,
        reading_date,
        subject_bucket

    from consented_readings
    group by
        {{ adapter.quote('user') }},
        {{ adapter.quote('timestamp') }},
        x,
        y,
        z,
        recorded_at,
        reading_date,
        subject_bucket

)

select * from one_row_per_reading
{{ one_file_per_partition() }}
