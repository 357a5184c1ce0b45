-- What became of the accelerometer landing lines: how many reached
-- machine_learning_curated and, for the others, the first rule that stopped
-- them (R0, R1, R2, R5), counted from the staged readings, the customer
-- outcomes and the trusted and curated tables.
{{ config(materialized='ephemeral') }}

{%- set reasons = [
    'malformed_line', 'missing_key', 'duplicate_delivery', 'no_research_consent', 'revoked', 'erased',
    'before_consent', 'unpaired',
] %}

with

staged_readings as (

    select * from {{ ref('stg_landing__accelerometer_readings') }}

),

people as (

    select * from {{ ref('int_customer_outcomes') }}

),

trusted_readings as (

    select * from {{ ref('accelerometer_trusted') }}

),

curated_customers as (

    select * from {{ ref('customer_curated') }}

),

trusted_device_readings as (

    select * from {{ ref('step_trainer_trusted') }}

),

training_rows as (

    select * from {{ ref('machine_learning_curated') }}

),

unkeyed_lines as (

    select case when is_malformed then 'malformed_line' else 'missing_key' end as reason

    from staged_readings
    where
        is_malformed
        or email_key is null
        or email_key = ''
        or {{ adapter.quote('timestamp') }} is null

),

keyed_readings as (

    select
        *,
        -- the first copy of a reading delivered more than once goes on
        row_number() over (
            partition by
                {{ adapter.quote('user') }},
                {{ adapter.quote('timestamp') }},
                x,
                y,
                z
            order by landing_file
        ) as copy_number

    from staged_readings
    where
        not is_malformed
        and email_key is not null
        and email_key != ''
        and {{ adapter.quote('timestamp') }} is not null

),

reading_outcomes as (

    -- null: the reading reached accelerometer_trusted
    select
        case
            when keyed_readings.copy_number > 1 then 'duplicate_delivery'
            when people.outcome is null then 'no_research_consent'
            when people.outcome in ('no_research_consent', 'revoked', 'erased') then people.outcome
            when not ({{ within_research_consent(
                'keyed_readings.' ~ adapter.quote('timestamp'),
                'people.sharewithresearchasofdate',
            ) }}) then 'before_consent'
        end as reason

    from keyed_readings
    left join people
        on keyed_readings.email_key = people.email_key

),

curated_devices as (

    select
        serialnumber,
        {{ normalize_email('email') }} as email_key

    from curated_customers

),

unpaired_readings as (

    -- no device reading of the same person at that millisecond (R5)
    select 'unpaired' as reason

    from trusted_readings
    left join curated_devices
        on {{ normalize_email('trusted_readings.' ~ adapter.quote('user')) }} = curated_devices.email_key
    left join trusted_device_readings
        on
            curated_devices.serialnumber = trusted_device_readings.serialnumber
            and trusted_readings.{{ adapter.quote('timestamp') }} = trusted_device_readings.sensorreadingtime
    where trusted_device_readings.serialnumber is null

),

outcomes as (

    select
        'excluded' as measure,
        reason
    from unkeyed_lines
    union all
    select
        'excluded' as measure,
        reason
    from reading_outcomes
    where reason is not null
    union all
    select
        'excluded' as measure,
        reason
    from unpaired_readings
    union all
    -- at most one training row per phone reading: one device reading per person and millisecond
    select
        'kept' as measure,
        cast(null as {{ dbt.type_string() }}) as reason
    from training_rows

)

{{ landing_outcome_counts('accelerometer_landing', reasons, 'outcomes') }}
