{#
    Runs on-run-start. `stedi preflight` (which the Makefile runs before every build) refuses
    the public demo salt on any data but generated demo data; this refuses it where no demo
    build can be, the Thrift and Athena targets, also for a `dbt build` run without make. Only
    the embedded Spark may use it, and there only the preflight can tell demo data from real
    data. `dbt compile` writes no subject_id, so it passes (the offline Athena check compiles).
#}
{% macro assert_subject_salt_is_secret() %}
    {%- if execute and flags.WHICH != 'compile' and var('subject_id_salt') == 'local-demo-salt'
        and not adapter.dispatch('demo_salt_allowed', 'stedi_lakehouse')() -%}
        {{ exceptions.raise_compiler_error(
            "STEDI_SUBJECT_SALT is not set: a build on the " ~ target.name ~ " target needs a secret salt for subject_id,"
            ~ " not the public demo salt; export STEDI_SUBJECT_SALT=\"$(openssl rand -hex 32)\" and keep it,"
            ~ " or read it from AWS (eval \"$(stedi secrets env)\", see docs/aws.md)"
        ) }}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}

{% macro default__demo_salt_allowed() %}
    {{- return(false) -}}
{% endmacro %}

{% macro spark__demo_salt_allowed() %}
    {{- return(target.method == 'session') -}}
{% endmacro %}
