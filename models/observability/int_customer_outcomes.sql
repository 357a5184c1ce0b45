-- How far each customer (normalized email) got through rules R1 and R3, read
-- from what the build holds: the current record of every customer and the
-- trusted and curated customer tables. Ephemeral: it holds people who did not
-- consent. The landing outcome models attribute each record to it.
{{ config(materialized='ephemeral') }}

with

staged_customers as (

    select * from {{ ref('stg_landing__customers') }}

),

current_records as (

    select * from {{ ref('int_customer_current_records') }}

),

trusted_customers as (

    select * from {{ ref('customer_trusted') }}

),

curated_customers as (

    select * from {{ ref('customer_curated') }}

),

people_who_consented as (

    -- someone whose current record lacks the consent an earlier one gave revoked it
    select distinct email_key
    from staged_customers
    where
        not is_malformed
        and sharewithresearchasofdate is not null

),

trusted_people as (

    -- one row per customer, as in every customer table
    select {{ normalize_email('email') }} as email_key
    from trusted_customers

),

curated_people as (

    select {{ normalize_email('email') }} as email_key
    from curated_customers

),

outcomes as (

    select
        current_records.email_key,
        current_records.serialnumber,
        current_records.sharewithresearchasofdate,
        case
            when
                current_records.sharewithresearchasofdate is null
                and people_who_consented.email_key is null
                then 'no_research_consent'
            when current_records.sharewithresearchasofdate is null then 'revoked'
            -- consenting on the current record yet not trusted: only an erasure request does that
            when trusted_people.email_key is null then 'erased'
            when curated_people.email_key is null then 'not_curated'
            else 'curated'
        end as outcome

    from current_records
    left join people_who_consented
        on current_records.email_key = people_who_consented.email_key
    left join trusted_people
        on current_records.email_key = trusted_people.email_key
    left join curated_people
        on current_records.email_key = curated_people.email_key

)

select * from outcomes
