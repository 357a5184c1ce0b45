{#
    Pre-hook of the incremental reading tables. An incremental build rewrites
    only the reading dates of newly staged readings, which is exact as long as
    nobody's consent changed. If it did, the table is emptied here and the
    build recomputes every reading date from the staged records: a partition
    overwrite alone could never empty the date of a revoked person's last
    readings. Consent changed since the table's newest reading was loaded when
    - a customer record was staged after it (a new consent, a revocation, a
      new consent time or serial number), or
    - the table holds a row whose person is not among `customers` any more
      (an erasure request).
    A table built before incremental builds (no loaded_at) stops the build
    with one line asking for a full refresh.
#}
{#- reading_table_config declares the dependency on stg_landing__customers, read here. -#}
{% macro start_over_if_consent_changed(row_person_key, customers, customer_person_key) %}
    {%- if not (execute and is_incremental()) -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- if 'loaded_at' not in built_columns -%}
        {%- do exceptions.raise_compiler_error(
            this ~ ' was built by a version of this project without incremental builds (it has no loaded_at column): '
            ~ 'rebuild it once with `make build DBT_ARGS=--full-refresh` (dbt build --full-refresh)'
        ) -%}
    {%- endif -%}
    {#- not last_loaded_at(): an empty table has nothing to start over, so null compares false -#}
    {%- set last_loaded = '(select max(loaded_at) from ' ~ this ~ ')' -%}
    {%- set changes_query -%}
        select count(*) as changes from (
            select 1 as change
            from {{ ref('stg_landing__customers') }}
            where loaded_at > {{ last_loaded }}
            union all
            select 1 as change
            from {{ this }}
            where
                {{ row_person_key }} is not null
                and {{ row_person_key }} not in (
                    select {{ customer_person_key }}
                    from {{ customers }}
                    where {{ customer_person_key }} is not null
                )
        ) as consent_changes
    {%- endset -%}
    {%- if run_query(changes_query).columns[0].values()[0] == 0 -%}
        {{- return('') -}}
    {%- endif -%}
    {%- do log(this ~ ': consent changed since the last build, every reading date is rebuilt', info=true) -%}
    {{- return(adapter.dispatch('remove_all_rows', 'stedi_lakehouse')(this)) -}}
{% endmacro %}

{% macro spark__remove_all_rows(relation) -%}
    truncate table {{ relation }}
{%- endmacro %}

{#- Athena has no TRUNCATE: delete the table's files, keep its definition. -#}
{% macro athena__remove_all_rows(relation) %}
    {%- do adapter.clean_up_table(relation) -%}
    {{- return('') -}}
{% endmacro %}
