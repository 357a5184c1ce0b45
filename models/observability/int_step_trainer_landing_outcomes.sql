-- What became of the step-trainer landing lines: how many reached
-- machine_learning_curated and, for the others, the first rule that stopped
-- them (R0, R4 with R1 and R3 for the device's owner, R5), counted from the
-- staged readings, the customer outcomes and the trusted and curated tables.
{{ config(materialized='ephemeral') }}

{%- set reasons = [
    'malformed_line', 'missing_key', 'duplicate_delivery', 'serial_shared', 'no_research_consent', 'revoked',
    'erased', 'not_curated', 'before_consent', 'conflicting_reading', 'unpaired',
] %}

with

staged_readings as (

    select * from {{ ref('stg_landing__step_trainer_readings') }}

),

people as (

    select * from {{ ref('int_customer_outcomes') }}

),

trusted_readings as (

    select * from {{ ref('step_trainer_trusted') }}

),

curated_customers as (

    select * from {{ ref('customer_curated') }}

),

trusted_phone_readings as (

    select * from {{ ref('accelerometer_trusted') }}

),

training_rows as (

    select * from {{ ref('machine_learning_curated') }}

),

unkeyed_lines as (

    select case when is_malformed then 'malformed_line' else 'missing_key' end as reason

    from staged_readings
    where
        is_malformed
        or serialnumber is null
        or trim(serialnumber) = ''
        or sensorreadingtime is null

),

keyed_readings as (

    select
        *,
        -- the first copy of a reading delivered more than once goes on
        row_number() over (
            partition by
                sensorreadingtime,
                serialnumber,
                distancefromobject
            order by landing_file
        ) as copy_number

    from staged_readings
    where
        not is_malformed
        and serialnumber is not null
        and trim(serialnumber) != ''
        and sensorreadingtime is not null

),

serial_holders as (

    -- who holds each serial number on their current record; with one holder,
    -- the minimums are that owner's
    select
        serialnumber,
        count(*) as holders,
        min(outcome) as owner_outcome,
        min(sharewithresearchasofdate) as owner_consent

    from people
    where serialnumber is not null
    group by serialnumber

),

reading_outcomes as (

    -- null: the reading may reach step_trainer_trusted
    select
        keyed_readings.serialnumber,
        keyed_readings.sensorreadingtime,
        keyed_readings.distancefromobject,
        case
            when keyed_readings.copy_number > 1 then 'duplicate_delivery'
            when serial_holders.holders > 1 then 'serial_shared'
            -- a device nobody holds: nobody consented for it
            when serial_holders.serialnumber is null then 'no_research_consent'
            when serial_holders.owner_outcome != 'curated' then serial_holders.owner_outcome
            when not ({{ within_research_consent(
                'keyed_readings.sensorreadingtime',
                'serial_holders.owner_consent',
            ) }}) then 'before_consent'
        end as reason

    from keyed_readings
    left join serial_holders
        on keyed_readings.serialnumber = serial_holders.serialnumber

),

device_reading_outcomes as (

    select
        case
            -- another distance from the device in the same millisecond: R4 keeps the smallest
            when reason is null and row_number() over (
                partition by serialnumber, sensorreadingtime, reason
                order by distancefromobject
            ) > 1 then 'conflicting_reading'
            else reason
        end as reason

    from reading_outcomes

),

curated_devices as (

    select
        serialnumber,
        {{ normalize_email('email') }} as email_key

    from curated_customers

),

phone_reading_times as (

    select distinct
        {{ normalize_email(adapter.quote('user')) }} as email_key,
        {{ adapter.quote('timestamp') }} as reading_time

    from trusted_phone_readings

),

unpaired_readings as (

    -- no phone reading of the device's owner at that millisecond (R5)
    select 'unpaired' as reason

    from trusted_readings
    left join curated_devices
        on trusted_readings.serialnumber = curated_devices.serialnumber
    left join phone_reading_times
        on
            curated_devices.email_key = phone_reading_times.email_key
            and trusted_readings.sensorreadingtime = phone_reading_times.reading_time
    where phone_reading_times.email_key is null

),

paired_readings as (

    -- one per device reading: a device has one owner, so a subject and a millisecond
    select distinct
        subject_id,
        sensorreadingtime

    from training_rows

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
    from device_reading_outcomes
    where reason is not null
    union all
    select
        'excluded' as measure,
        reason
    from unpaired_readings
    union all
    select
        'kept' as measure,
        cast(null as {{ dbt.type_string() }}) as reason
    from paired_readings

)

{{ landing_outcome_counts('step_trainer_landing', reasons, 'outcomes') }}
