-- The current record of every customer, consenting or not (R0, first half of
-- R1). Ephemeral: it never becomes a table, since it holds people who did not
-- consent; customer_trusted and the serial-number ownership of
-- step_trainer_trusted read it.
{{ config(materialized='ephemeral') }}

with

staged_customers as (

    select * from {{ ref('stg_landing__customers') }}

),

customer_records as (

    -- a record delivered twice counts once
    select distinct
        customername,
        email,
        email_key,
        phone,
        birthday,
        serialnumber,
        registrationdate,
        lastupdatedate,
        sharewithresearchasofdate,
        sharewithpublicasofdate,
        sharewithfriendsasofdate,
        registered_at,
        last_updated_at,
        research_consent_at,
        public_consent_at,
        friends_consent_at

    from staged_customers
    where
        not is_malformed
        and email_key is not null
        and email_key != ''

),

ranked_records as (

    select
        *,
        -- latest update wins; on a tie a record without consent (a
        -- revocation) wins, then the later consent, then a stable order
        row_number() over (
            partition by email_key
            order by
                lastupdatedate desc nulls last,
                sharewithresearchasofdate desc nulls first,
                registrationdate desc nulls last,
                serialnumber asc nulls last,
                email asc
        ) as recency_rank

    from customer_records

),

current_records as (

    select
        customername,
        email,
        email_key,
        phone,
        birthday,
        serialnumber,
        registrationdate,
        lastupdatedate,
        sharewithresearchasofdate,
        sharewithpublicasofdate,
        sharewithfriendsasofdate,
        registered_at,
        last_updated_at,
        research_consent_at,
        public_consent_at,
        friends_consent_at

    from ranked_records
    where recency_rank = 1

)

select * from current_records
