{#
    Pseudonymous subject key of a customer (R5): salted SHA-256 of the
    normalized email. Stable across builds for one salt, so data scientists
    can split train and test sets by person without seeing who they are.
#}
{% macro subject_id(email_key) -%}
    {{ sha256_hex("concat('" ~ (var('subject_id_salt') | replace("'", "''")) ~ "', " ~ email_key ~ ")") }}
{%- endmacro %}
