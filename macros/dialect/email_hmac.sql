{#
    The keyed hash an erasure request holds (seeds/erasure_requests.csv):
    lowercase hex HMAC-SHA-256 of a normalized email, keyed by
    STEDI_ERASURE_KEY. `stedi erasure-request` computes the same in Python.
#}
{% macro email_hmac(email_key) %}
    {{- return(adapter.dispatch('email_hmac', 'stedi_lakehouse')(email_key)) -}}
{% endmacro %}

{#-
    Spark (4.3 and later has hmac). The key is not in the compiled SQL: the
    profile passes it as the session setting spark.stedi.erasure_key, and
    Spark substitutes ${spark.stedi.erasure_key} when it parses the statement.
    A setting that did not reach Spark reads as empty (or, with substitution
    turned off, as the reference itself): the query then fails rather than
    hash with a wrong key.
-#}
{% macro spark__email_hmac(email_key) -%}
    lower(hex(hmac(
        cast(
            case
                when '${spark.stedi.erasure_key}' in ('', concat('$', '{spark.stedi.erasure_key}'))
                    then raise_error('STEDI_ERASURE_KEY did not reach Spark: the profile sets it as spark.stedi.erasure_key')
                else '${spark.stedi.erasure_key}'
            end as binary
        ),
        cast({{ email_key }} as binary)
    )))
{%- endmacro %}

{#-
    Athena (Trino's hmac_sha256). Athena has no session settings to carry the
    key: it is in the SQL text, so in dbt's target/ and logs/ and in Athena's
    query history (see the erasure docs for what that means and how to purge).
-#}
{% macro athena__email_hmac(email_key) -%}
    {%- set key = env_var('STEDI_ERASURE_KEY', 'local-demo-erasure-key-not-for-real-data') -%}
    {#- as stedi_lakehouse/erasure/keys.py checks it: nothing that leaves the string literal -#}
    {%- if not modules.re.fullmatch('[A-Za-z0-9+/=_.~-]{16,}', key) -%}
        {{ exceptions.raise_compiler_error(
            'STEDI_ERASURE_KEY must be at least 16 characters of letters, digits and + / = _ . ~ -'
        ) }}
    {%- endif -%}
    lower(to_hex(hmac_sha256(to_utf8({{ email_key }}), to_utf8('{{ key }}'))))
{%- endmacro %}
