{#
    Runs on-run-start. `stedi preflight` (which the Makefile runs before every build) refuses
    the public demo salt on any data but generated demo data; this refuses it on every target
    but `local`, the embedded Spark of profiles.example.yml (the only one a demo build uses),
    also for a `dbt build` run without make. dbt shows no connection method to Jinja, hence the
    target's name, as the preflight's --target. On `local` only the preflight can tell demo data
    from real data. `dbt compile` writes no subject_id, so it passes (the offline Athena check).
#}
{% macro assert_subject_salt_is_secret() %}
    {%- if execute and flags.WHICH != 'compile' and target.name != 'local'
        and var('subject_id_salt') == 'local-demo-salt' -%}
        {{ exceptions.raise_compiler_error(
            "STEDI_SUBJECT_SALT is not set: a build on the " ~ target.name ~ " target needs a secret salt for subject_id,"
            ~ " not the public demo salt; export STEDI_SUBJECT_SALT=\"$(openssl rand -hex 32)\" and keep it,"
            ~ " or read it from AWS (eval \"$(stedi secrets env)\", see docs/aws.md)"
        ) }}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}
