{#
    Pseudonymous subject key of a customer (R5): salted SHA-256 of the
    normalized email. Stable across builds for one salt, so data scientists
    can split train and test sets by person without seeing who they are.
#}
{% macro subject_id(email_key) -%}
    {{ sha256_hex("concat('" ~ (var('subject_id_salt') | replace("'", "''")) ~ "', " ~ email_key ~ ")") }}
{%- endmacro %}


{#
    The partition of a subject's rows in the reading tables: the first hex
    digit of their subject_id, 16 buckets. A revocation or a late consent
    rewrites the buckets of the people it concerns, not whole dates; and since
    it is part of the pseudonym, it tells a data scientist nothing more.
#}
{% macro subject_bucket(subject_id) -%}
    substr({{ subject_id }}, 1, 1)
{%- endmacro %}
