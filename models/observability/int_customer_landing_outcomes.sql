-- What became of the customer landing lines: how many reached customer_curated
-- and, for the others, the first rule that stopped them (R0, R1, R3), counted
-- from the staged records, the customer outcomes and customer_curated.
{{ config(materialized='ephemeral') }}

{%- set reasons = [
    'malformed_line', 'missing_key', 'duplicate_delivery', 'superseded', 'no_research_consent', 'revoked',
    'erased', 'not_curated',
] %}

with

staged_customers as (

    select * from {{ ref('stg_landing__customers') }}

),

people as (

    select * from {{ ref('int_customer_outcomes') }}

),

curated_customers as (

    select * from {{ ref('customer_curated') }}

),

unkeyed_lines as (

    select case when is_malformed then 'malformed_line' else 'missing_key' end as reason

    from staged_customers
    where
        is_malformed
        or email_key is null
        or email_key = ''

),

keyed_records as (

    select
        *,
        -- the first copy of a record delivered more than once goes on
        row_number() over (
            partition by
                customername,
                email,
                phone,
                birthday,
                serialnumber,
                registrationdate,
                lastupdatedate,
                sharewithresearchasofdate,
                sharewithpublicasofdate,
                sharewithfriendsasofdate
            order by landing_file
        ) as copy_number

    from staged_customers
    where
        not is_malformed
        and email_key is not null
        and email_key != ''

),

record_outcomes as (

    -- null: the record is its customer's current one and the customer is curated
    select
        case
            when keyed_records.copy_number > 1 then 'duplicate_delivery'
            -- one distinct record stands for the customer; which one does not change
            -- how many are superseded
            when row_number() over (
                partition by keyed_records.email_key, keyed_records.copy_number
                order by keyed_records.lastupdatedate
            ) > 1 then 'superseded'
            when people.outcome != 'curated' then people.outcome
        end as reason

    from keyed_records
    left join people
        on keyed_records.email_key = people.email_key

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
    from record_outcomes
    where reason is not null
    union all
    select
        'kept' as measure,
        cast(null as {{ dbt.type_string() }}) as reason
    from curated_customers

)

{{ landing_outcome_counts('customer_landing', reasons, 'outcomes') }}
